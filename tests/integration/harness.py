"""Starts the real `strowger` binary on loopback for integration tests, and speaks STUN to it.

Each test gets free ports and its own data directory, and stops only the server it started.
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
ATTR_MAPPED_ADDRESS = 0x0001
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_ERROR_CODE = 0x0009
ATTR_UNKNOWN_ATTRIBUTES = 0x000A

BINARY = os.environ.get("STROWGER_BINARY", "")
SKIP_CODE = 77  # ctest SKIP_RETURN_CODE: a missing tool on a developer's machine


def missing_requirement(message):
    """Something a test needs is missing: a failure under CI, a loud skip elsewhere."""
    if os.environ.get("CI") == "true":
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIPPING: {message}", file=sys.stderr)
    sys.exit(SKIP_CODE)


def require_tool(name):
    """A missing tool fails the run under CI and skips loudly elsewhere."""
    if not shutil.which(name):
        missing_requirement(f"required test tool '{name}' is not installed "
                            "(the README's test command installs it)")


def free_port(kind=socket.SOCK_DGRAM, host="127.0.0.1"):
    """A port free for both UDP and TCP on `host`, so one number serves both listeners."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(family, other) as s:
                s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


class Server:
    """One `strowger serve` process. Use as a context manager."""

    def __init__(self, *settings, threads=1, expect_start=True, data_dir=None, prefix=()):
        # A given data_dir is the test's to keep (e.g. to restart on the same store); only a
        # directory made here is removed on exit. `prefix` comes before the binary, e.g.
        # ["ip", "netns", "exec", NAME] to run the server in a network namespace.
        self.owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="strowger-it-")
        self.args = [*prefix, BINARY, "serve", "--set", f"general.data_dir={self.data_dir}",
                     "--set", f"general.threads={threads}"]
        # Every service gets free loopback ports unless the test chose its own, so tests never
        # touch the default ports (and can run in parallel).
        chosen = {s.split("=", 1)[0] for s in settings}
        self.stun_port = None
        self.sip_port = None
        self.http_port = None
        if "stun.listen" not in chosen:
            self.stun_port = free_port()
            self.args += ["--set", f'stun.listen=["udp:127.0.0.1:{self.stun_port}"]']
        if "sip.listen" not in chosen:
            self.sip_port = free_port()
            self.args += ["--set", f'sip.listen=["udp:127.0.0.1:{self.sip_port}",'
                                   f'"tcp:127.0.0.1:{self.sip_port}"]']
        if "http.listen" not in chosen:
            self.http_port = free_port(socket.SOCK_STREAM)
            self.args += ["--set", f'http.listen=["tcp:127.0.0.1:{self.http_port}"]']
        for s in settings:
            self.args += ["--set", s]
        self.expect_start = expect_start
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.returncode = None

    def __enter__(self):
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        if self.expect_start:
            self.wait_for_log(r"serving with \d+ shards", timeout=10)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for_log(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output()):
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.02)
        raise AssertionError(f"'{pattern}' not logged within {timeout}s:\n{self.output()}")

    def wait_exit(self, timeout):
        self.returncode = self.proc.wait(timeout=timeout)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=2.0):
        """Signals the server; returns (exit code, seconds taken)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        code = self.wait_exit(timeout)
        return code, time.monotonic() - start

    def shard_stats(self):
        """{shard index: {counter: value}} from the lines logged at shutdown."""
        stats = {}
        for m in re.finditer(r"shard (\d+): (.*)", self.output()):
            stats[int(m.group(1))] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        return stats


def binding_request(attributes=b"", transaction_id=None, cookie=True):
    tid = transaction_id or os.urandom(12)
    head = struct.pack("!HHI", BINDING_REQUEST, len(attributes),
                       MAGIC_COOKIE if cookie else struct.unpack("!I", os.urandom(4))[0])
    return head + tid + attributes


def attribute(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def parse_response(data):
    """(type, header bytes 4..20, {attribute type: value}) of one STUN message."""
    kind, length = struct.unpack("!HH", data[:4])
    assert len(data) == 20 + length, f"length field {length} for {len(data)} bytes"
    attrs = {}
    pos = 20
    while pos < len(data):
        t, n = struct.unpack("!HH", data[pos:pos + 4])
        attrs.setdefault(t, data[pos + 4:pos + 4 + n])
        pos += 4 + n + (4 - n % 4) % 4
    return kind, data[4:20], attrs


def xor_mapped(attrs, header):
    value = attrs[ATTR_XOR_MAPPED_ADDRESS]
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC_COOKIE >> 16)
    if family == 1:
        raw = bytes(a ^ b for a, b in zip(value[4:8], header[:4]))
        return socket.inet_ntop(socket.AF_INET, raw), port
    raw = bytes(a ^ b for a, b in zip(value[4:20], header[:16]))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def error_code(attrs):
    value = attrs[ATTR_ERROR_CODE]
    return value[2] * 100 + value[3]


def udp_binding(host, port, request=None, timeout=2.0, retries=3):
    """Sends a Binding request from a fresh socket; returns (response bytes, local address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    request = request or binding_request()
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        s.settimeout(timeout / retries)
        for _ in range(retries):
            s.sendto(request, (host, port))
            try:
                data, _ = s.recvfrom(2048)
                return data, s.getsockname()[:2]
            except socket.timeout:
                continue
    raise AssertionError(f"no answer from {host}:{port}")


def run_tests():
    if not BINARY or not os.access(BINARY, os.X_OK):
        print("STROWGER_BINARY must name the built strowger binary", file=sys.stderr)
        sys.exit(2)
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
