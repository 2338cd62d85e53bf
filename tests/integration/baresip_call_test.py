#!/usr/bin/env python3
"""A real phone call through the server: two baresip user agents register, alice calls bob, bob
answers on his own, G.711 audio flows both ways for a few seconds, and alice hangs up.

tshark watches loopback throughout, so the test checks what went over the wire: RTP in both
directions between the phones' own port ranges, and INVITE, ACK and BYE passing through the
server (it record-routes, so the in-dialog requests must come back to it)."""

import collections
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from harness import BINARY, Server, free_port, missing_requirement, require_tool, run_tests

TEMPLATES = Path(__file__).resolve().parent.parent / "baresip"
STEP_TIMEOUT = 10  # seconds any one step (start, register, answer, hang up, quit) may take
TALK_SECONDS = 3
# baresip sends one packet per 20 ms: three seconds is 150 each way; 100 leaves slack for a
# slow machine while still proving a steady stream rather than a few stray packets.
MIN_RTP_PACKETS_EACH_WAY = 100
PCMU = "0"  # RTP payload type of G.711 u-law, the only codec the phones offer
RTP_PORTS_PER_PHONE = 10
MODULE_DIRS = ["/usr/lib/baresip/modules", "/usr/lib64/baresip/modules",
               "/usr/local/lib/baresip/modules"]
MODULES = ["account", "aubridge", "ausine", "ctrl_tcp", "g711", "menu"]


def free_port_block(count):
    """`count` consecutive ports free for UDP and TCP, below Linux's ephemeral range so the
    kernel does not hand one of them to some other socket while the test runs."""
    for _ in range(200):
        base = random.randrange(10000, 32000 - count, 2)  # even: RTP ports are even
        try:
            for port in range(base, base + count):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, kind) as s:
                        s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


def baresip_module_dir():
    """Where this system's baresip keeps the modules the phones load, or None."""
    for path in MODULE_DIRS:
        if all(os.path.exists(os.path.join(path, f"{m}.so")) for m in MODULES):
            return path
    return None


def require_baresip_modules():
    """Missing modules are treated like a missing tool: a failure under CI, a skip elsewhere."""
    if baresip_module_dir() is not None:
        return
    missing_requirement(f"baresip modules {', '.join(MODULES)} not found in any of {MODULE_DIRS}")


def fill(template, **values):
    return string.Template((TEMPLATES / template).read_text()).substitute(values)


class Phone:
    """One baresip process with its own config directory, driven over its ctrl_tcp socket:
    netstring-framed JSON, commands answered by responses carrying our token, plus events."""

    def __init__(self, user, registrar, answer_mode, work_dir, transport="udp", password=None,
                 cafile=None):
        self.user = user
        self.dir = os.path.join(work_dir, user)
        os.makedirs(self.dir)
        self.sip_port = free_port_block(2)  # baresip listens for TLS on sip_port + 1
        self.rtp_first = free_port_block(RTP_PORTS_PER_PHONE)
        self.rtp_last = self.rtp_first + RTP_PORTS_PER_PHONE - 1
        self.control_port = free_port(socket.SOCK_STREAM)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(fill("config.in", sip_port=self.sip_port, dns_port=free_port(),
                         rtp_first=self.rtp_first, rtp_last=self.rtp_last,
                         control_port=self.control_port, module_dir=baresip_module_dir()))
            if cafile:
                # The server's self-signed certificate is the one authority the phone trusts.
                f.write(f"sip_cafile\t\t{cafile}\n")
        # With a password the phone answers the server's digest challenges (401 and 407).
        extra = f";auth_pass={password}" if password else ""
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(fill("accounts.in", user=user, registrar=registrar, answer_mode=answer_mode,
                         transport=transport, extra=extra))
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.proc = None
        self.control = None
        self.buffer = b""
        self.events = []
        self.responses = {}
        self.next_token = 0

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["baresip", "-f", self.dir], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.control is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.user}'s baresip exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user}'s control socket never opened")
            try:
                self.control = socket.create_connection(("127.0.0.1", self.control_port), 1)
            except OSError:
                time.sleep(0.05)

    def receive(self, timeout):
        """Reads what has arrived within `timeout` and files each message as event or response."""
        ready, _, _ = select.select([self.control], [], [], timeout)
        if not ready:
            return
        chunk = self.control.recv(65536)
        if not chunk:
            raise AssertionError(f"{self.user}'s control socket closed")
        self.buffer += chunk
        while b":" in self.buffer:
            length_text, rest = self.buffer.split(b":", 1)
            length = int(length_text)
            if len(rest) < length + 1:
                break
            if rest[length:length + 1] != b",":
                raise AssertionError(f"bad netstring from {self.user}: {self.buffer[:80]!r}")
            message = json.loads(rest[:length])
            self.buffer = rest[length + 1:]
            if message.get("event"):
                self.events.append(message)
            elif message.get("response"):
                self.responses[message.get("token")] = message

    def command(self, text):
        """Runs one menu command (e.g. 'dial sip:...'); returns its response's data text."""
        self.next_token += 1
        token = f"{self.user}-{self.next_token}"
        name, _, params = text.partition(" ")
        body = json.dumps({"command": name, "params": params, "token": token}).encode()
        self.control.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + STEP_TIMEOUT
        while token not in self.responses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.user} did not answer '{text}'")
            self.receive(remaining)
        response = self.responses.pop(token)
        if not response.get("ok"):
            raise AssertionError(f"{self.user} refused '{text}': {response}")
        return response.get("data", "")

    def wait_event(self, kind):
        deadline = time.monotonic() + STEP_TIMEOUT
        while not any(e.get("type") == kind for e in self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [e.get("type") for e in self.events]
                raise AssertionError(f"{self.user} saw no {kind} within {STEP_TIMEOUT}s; "
                                     f"events: {seen}")
            self.receive(remaining)

    def wait_registered(self):
        # The REGISTER_OK event may come before the control socket is connected, so ask.
        deadline = time.monotonic() + STEP_TIMEOUT
        info = ""
        while time.monotonic() < deadline:
            info = re.sub(r"\x1b\[[0-9;]*m", "", self.command("reginfo"))
            if re.search(r"\bOK\b", info):
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.user} not registered within {STEP_TIMEOUT}s: {info}")

    def quit(self):
        """Asks baresip to unregister and exit; returns its exit code."""
        self.command("quit")
        return self.proc.wait(timeout=STEP_TIMEOUT)

    def kill(self):
        if self.control:
            self.control.close()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.log.close()

    def output(self):
        if not os.path.exists(self.log_path):
            return "(no log)"
        with open(self.log_path) as f:
            return f.read()


class Capture:
    """tshark decoding the loopback packets that match a capture filter as they pass, one line
    of fields per packet: UDP ports, RTP payload type (RTP found heuristically, as the ports are
    chosen at random), SIP method and TCP ports."""

    def __init__(self, capture_filter, sip_port, marker_port, work_dir):
        self.filter = f"{capture_filter} or udp port {marker_port}"
        self.sip_port = sip_port
        self.marker_port = marker_port
        self.fields_path = os.path.join(work_dir, "packets.txt")
        self.log_path = os.path.join(work_dir, "tshark.log")
        self.proc = None

    def start(self):
        self.fields = open(self.fields_path, "w")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["tshark", "-i", "lo", "-n", "-l", "-f", self.filter,
             "--enable-heuristic", "rtp_udp", "-d", f"udp.port=={self.sip_port},sip",
             "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "rtp.p_type",
             "-e", "sip.Method", "-e", "tcp.srcport", "-e", "tcp.dstport"],
            stdin=subprocess.DEVNULL, stdout=self.fields, stderr=self.log)
        deadline = time.monotonic() + STEP_TIMEOUT
        while "Capturing on" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("tshark did not start capturing on lo")
            time.sleep(0.05)

    def finish(self):
        """Stops once every packet sent so far has been decoded. The kernel hands captured
        packets over in blocks, so stopping at once would lose the last ones (the BYE among
        them); a marker datagram sent now shows up only after all of them."""
        deadline = time.monotonic() + STEP_TIMEOUT
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not any(p[1:2] == (str(self.marker_port),) for p in self.packets()):
                if time.monotonic() > deadline:
                    raise AssertionError("tshark never decoded the end-of-call marker")
                s.sendto(b"end of call", ("127.0.0.1", self.marker_port))
                time.sleep(0.1)
        self.stop()

    def stop(self):
        # SIGINT lets tshark finish its output.
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.fields.close()
            self.log.close()

    def packets(self):
        """(source port, destination port, RTP payload type, SIP method) of each packet so far."""
        with open(self.fields_path) as f:
            return [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip()]

    def output(self):
        """tshark's own messages, then the packets seen, alike ones counted together."""
        log = "(no log)"
        if os.path.exists(self.log_path):
            with open(self.log_path) as f:
                log = f.read()
        if not os.path.exists(self.fields_path):
            return log
        counts = collections.Counter(self.packets())
        lines = [f"{n:6} x {' '.join(p[:2])} {' '.join(p[2:])}" for p, n in counts.items()]
        return log + "packets (count x source port, destination port, RTP type, SIP method):\n" \
            + "\n".join(lines)


PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}


class BaresipCall(unittest.TestCase):
    """Over UDP, on a server without accounts (the open LAN exchange of a fresh install)."""

    TRANSPORT = "udp"
    DIGEST = False

    def setUp(self):
        self.work_dir = tempfile.mkdtemp(prefix="strowger-baresip-")
        self.addCleanup(shutil.rmtree, self.work_dir, ignore_errors=True)
        data_dir = os.path.join(self.work_dir, "var")
        os.makedirs(data_dir)
        if self.DIGEST:
            for user, password in PASSWORDS.items():
                subprocess.run([BINARY, "user", "add", user, password,
                                "--set", f"general.data_dir={data_dir}"],
                               check=True, capture_output=True)
        # libre before 2.0 (baresip 1.0, Debian 12's) gives up on a challenge whose algorithm it
        # does not know, even next to an MD5 one, so these phones get MD5 alone.
        settings = ['sip.auth_algorithms=["MD5"]'] if self.DIGEST else []
        if self.TRANSPORT == "tls":
            sip, tls = free_port(), free_port(socket.SOCK_STREAM)
            settings.append(f'sip.listen=["udp:127.0.0.1:{sip}", "tls:127.0.0.1:{tls}"]')
        self.server = Server(*settings, data_dir=data_dir)
        self.addCleanup(self.server.__exit__, None, None, None)  # also if it fails to start
        self.server.__enter__()
        if self.TRANSPORT == "tls":
            self.server.sip_port, self.signalling_port = sip, tls
        else:
            self.signalling_port = self.server.sip_port
        registrar = f"127.0.0.1:{self.signalling_port}"
        cafile = os.path.join(data_dir, "cert.pem") if self.TRANSPORT == "tls" else None
        phone = lambda user, mode: Phone(user, registrar, mode, self.work_dir, self.TRANSPORT,
                                         PASSWORDS[user] if self.DIGEST else None, cafile)
        self.alice = phone("alice", "manual")
        self.bob = phone("bob", "auto")
        self.addCleanup(self.alice.kill)
        self.addCleanup(self.bob.kill)
        signalling = (f"udp port {self.server.sip_port}" if self.TRANSPORT == "udp"
                      else f"tcp port {self.signalling_port}")
        self.capture = Capture(
            f"{signalling} or "
            f"udp portrange {self.alice.rtp_first}-{self.alice.rtp_last} or "
            f"udp portrange {self.bob.rtp_first}-{self.bob.rtp_last}",
            self.server.sip_port, free_port(), self.work_dir)
        self.addCleanup(self.capture.stop)

    def diagnostics(self):
        return "\n".join([
            "---- server ----", self.server.output(),
            "---- alice (baresip) ----", self.alice.output(),
            "---- bob (baresip) ----", self.bob.output(),
            "---- tshark ----", self.capture.output()])

    def test_alice_calls_bob_audio_both_ways_then_hangs_up(self):
        try:
            self.call_and_check()
        except Exception as error:
            reason = str(error) if isinstance(error, AssertionError) else repr(error)
            self.fail(f"{reason}\n\n{self.diagnostics()}")

    def call_and_check(self):
        alice, bob = self.alice, self.bob
        self.capture.start()
        bob.start()
        alice.start()
        bob.wait_registered()
        alice.wait_registered()

        suffix = ";transport=tls" if self.TRANSPORT == "tls" else ""
        alice.command(f"dial sip:bob@127.0.0.1:{self.signalling_port}{suffix}")
        bob.wait_event("CALL_ESTABLISHED")  # answermode=auto: no one presses a key
        alice.wait_event("CALL_ESTABLISHED")
        time.sleep(TALK_SECONDS)
        alice.command("hangup")
        alice.wait_event("CALL_CLOSED")
        bob.wait_event("CALL_CLOSED")  # the BYE made it through the server

        self.assertEqual(alice.quit(), 0, "alice's baresip exit code")
        self.assertEqual(bob.quit(), 0, "bob's baresip exit code")
        self.capture.finish()
        code, _ = self.server.stop()
        self.assertEqual(code, 0, "server exit code")

        packets = self.capture.packets()
        self.check_audio(packets)
        if self.TRANSPORT == "udp":
            self.check_signalling_through_server(packets)
        else:
            self.check_connections_to_server(packets)
        if self.DIGEST:
            self.check_digest()

    def check_audio(self, packets):
        def rtp(source, destination):
            return sum(1 for p in packets
                       if len(p) > 2 and p[2] == PCMU
                       and source.rtp_first <= int(p[0]) <= source.rtp_last
                       and destination.rtp_first <= int(p[1]) <= destination.rtp_last)

        to_bob, to_alice = rtp(self.alice, self.bob), rtp(self.bob, self.alice)
        self.assertGreaterEqual(to_bob, MIN_RTP_PACKETS_EACH_WAY, "PCMU packets alice to bob")
        self.assertGreaterEqual(to_alice, MIN_RTP_PACKETS_EACH_WAY, "PCMU packets bob to alice")

    def check_connections_to_server(self, packets):
        """Over TLS the methods cannot be read off the wire: both phones must have connected to
        the server's TLS port, and no SIP may have gone in the clear."""
        server = str(self.signalling_port)
        talked = {p[4] for p in packets if len(p) > 5 and p[5] == server}
        answered = {p[5] for p in packets if len(p) > 5 and p[4] == server}
        self.assertGreaterEqual(len(talked), 2, f"TCP connections to the TLS port {server}")
        self.assertEqual(talked, answered, "every connection to the TLS port was answered")
        sip = {p[3] for p in packets if len(p) > 3 and p[3]}
        self.assertEqual(sip, set(), "SIP in the clear, though both phones use TLS")

    def check_digest(self):
        """Both phones logged in: the server counted their REGISTERs (and un-REGISTERs at
        quit) and alice's INVITE as authenticated, each after a challenge, and no failure
        (the shard statistics are logged at shutdown)."""
        output = self.server.output()
        self.assertIn("digest authentication on", output)
        m = re.search(r"sip auth: challenges=(\d+) stale=\d+ successes=(\d+) failures=(\d+)",
                      output)
        self.assertIsNotNone(m, "no auth statistics logged")
        challenges, successes, failures = map(int, m.groups())
        self.assertGreaterEqual(successes, 3, "REGISTERs and the INVITE authenticated")
        self.assertGreaterEqual(challenges, successes)
        self.assertEqual(failures, 0)

    def check_signalling_through_server(self, packets):
        server = str(self.server.sip_port)
        for method in ("INVITE", "ACK", "BYE"):
            hops = {(p[0], p[1]) for p in packets if len(p) > 3 and p[3] == method}
            self.assertIn((str(self.alice.sip_port), server), hops, f"{method} alice to server")
            self.assertIn((server, str(self.bob.sip_port)), hops, f"{method} server to bob")


class BaresipCallWithDigest(BaresipCall):
    """Over UDP, with accounts: both phones answer 401 to their REGISTER and alice 407 to
    her INVITE with MD5 digest."""

    DIGEST = True


class BaresipCallOverTlsWithDigest(BaresipCall):
    """Over TLS (RFC 3261 §26) to the server's tls: listener, with accounts."""

    TRANSPORT = "tls"
    DIGEST = True


if __name__ == "__main__":
    require_tool("baresip")
    require_tool("tshark")
    require_baresip_modules()
    run_tests()
