"""Runs sipp with the scenarios in tests/sipp against the server under test, on loopback.

Each `Sipp` is one sipp process with its own free port, bounded by sipp's own timeouts and by a
deadline here; it is stopped by its PID only. Its message and error logs are kept so that a
failing test can show what each side sent and received.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from harness import Server, free_port

SCENARIOS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sipp"))
DOMAIN = "strowger.test"
UDP = "u1"  # one UDP socket for the whole run
TCP = "t1"  # one TCP connection, opened to the server at start
COMPACT_FORMS = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m",
                 "content-length": "l", "content-type": "c"}  # RFC 3261 7.3.3


class Message:
    """One message from a sipp message log."""

    def __init__(self, when, transport, direction, text):
        self.when = when  # seconds since the epoch, as sipp stamped it
        self.transport = transport
        self.direction = direction  # "sent" or "received"
        self.text = text

    @property
    def first_line(self):
        return self.text.split("\n", 1)[0].strip()

    @property
    def status(self):
        """The status code of a response, None for a request."""
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(m.group(1)) if m else None

    @property
    def method(self):
        """The method of a request, None for a response."""
        return None if self.status else self.first_line.split(" ", 1)[0]

    def headers(self, name):
        """Values of every header line called `name` or its compact form, in any case."""
        head = self.text.split("\n\n", 1)[0]
        names = re.escape(name)
        if name.lower() in COMPACT_FORMS:
            names += "|" + COMPACT_FORMS[name.lower()]
        return [m.group(1).strip() for m in
                re.finditer(rf"^(?:{names})[ \t]*:(.*)$", head, re.IGNORECASE | re.MULTILINE)]


_LOG_ENTRY = re.compile(
    r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\n"
    r"(\w+) message (sent|received)[^\n]*\n\n(.*?)(?=^-+ \d{4}-\d\d-\d\d |\Z)",
    re.MULTILINE | re.DOTALL)


def free_media_ports():
    """A UDP port P on loopback with P + 2 free too: sipp binds its RTP echo sockets (audio on
    P, video on P + 2) even when no media flows."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 2 > 65535:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                 socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 2))
            return port
        except OSError:
            continue
    raise RuntimeError("no free media ports")


def _stamp(text):
    seconds, _, fraction = text.partition(".")
    base = time.mktime(time.strptime(seconds, "%Y-%m-%d %H:%M:%S"))
    return base + (float("0." + fraction) if fraction else 0.0)


class Sipp:
    """One sipp process. `scenario` and `ooc` name files in tests/sipp."""

    def __init__(self, name, scenario, server_port, workdir, *, transport=UDP, user="bob",
                 ooc=None, pause_ms=0, keys=None, seconds=30, auth=None, calls=1):
        self.name = name
        self.port = free_port()
        self.workdir = workdir
        self.seconds = seconds
        self.message_log = os.path.join(workdir, f"{name}.messages.log")
        self.error_log = os.path.join(workdir, f"{name}.errors.log")
        self.output_log = os.path.join(workdir, f"{name}.out")
        all_keys = {"domain": DOMAIN, "max_forwards": "70"}
        all_keys.update(keys or {})
        self.args = [
            "sipp", f"127.0.0.1:{server_port}",
            "-sf", os.path.join(SCENARIOS, scenario),
            "-i", "127.0.0.1", "-p", str(self.port), "-t", transport,
            # sipp's control and media sockets too stay on loopback, away from their defaults.
            "-ci", "127.0.0.1", "-cp", str(free_port(socket.SOCK_DGRAM)),
            "-mi", "127.0.0.1", "-mp", str(free_media_ports()),
            "-s", user, "-d", str(pause_ms),
            "-m", str(calls), "-nostdin",
            # Bounds: the whole run, and each expected message.
            "-timeout", f"{seconds}s", "-timeout_error", "-recv_timeout", "10000",
            "-trace_msg", "-message_file", self.message_log,
            "-trace_err", "-error_file", self.error_log,
        ]
        if auth:
            # The user name and password [authentication] answers challenges with.
            self.args += ["-au", auth[0], "-ap", auth[1]]
        if ooc:
            # The main scenario is then a registration, not a call: when it is cut short,
            # sipp must not try to end it with a BYE.
            self.args += ["-oocsf", os.path.join(SCENARIOS, ooc), "-default_behaviors", "all,-bye"]
        for key, value in all_keys.items():
            self.args += ["-key", key, str(value)]
        self.proc = None
        self.returncode = None
        self.killed = False

    def start(self):
        with open(self.output_log, "w") as out:
            self.proc = subprocess.Popen(self.args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=None):
        """Waits for sipp to end, at most `timeout` seconds (default: its own bound plus 5);
        past that it is killed. Returns the exit code."""
        if self.returncode is not None:
            return self.returncode
        try:
            self.returncode = self.proc.wait(timeout=self.seconds + 5 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        return self.returncode

    def stop(self):
        if self.running():
            self.killed = True
            self.proc.kill()
        if self.proc is not None:
            self.returncode = self.proc.wait()

    def messages(self, direction=None):
        try:
            with open(self.message_log, errors="replace") as f:
                text = f.read().replace("\r\n", "\n")
        except FileNotFoundError:
            return []
        found = [Message(_stamp(m.group(1)), m.group(2), m.group(3), m.group(4))
                 for m in _LOG_ENTRY.finditer(text)]
        return [m for m in found if direction in (None, m.direction)]

    def received(self, method=None, status=None):
        return [m for m in self.messages("received")
                if (method is None or m.method == method) and (status is None or m.status == status)]

    def sent(self, method=None):
        return [m for m in self.messages("sent") if method is None or m.method == method]

    def registered(self):
        """True once a 2xx to this sipp's REGISTER has arrived."""
        return any(m.status and 200 <= m.status < 300 and "REGISTER" in " ".join(m.headers("CSeq"))
                   for m in self.received())

    def report(self, tail=6000):
        """Everything needed to see why this sipp failed."""
        def read(path, limit):
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                return "(none)"
            return text if len(text) <= limit else "...\n" + text[-limit:]
        code = "none: killed, still running at its deadline" if self.killed else self.returncode
        return (f"==== sipp '{self.name}' exit {code}\n$ {' '.join(self.args)}\n"
                f"---- errors:\n{read(self.error_log, 3000)}\n"
                f"---- output (tail):\n{read(self.output_log, 1200)}\n"
                f"---- messages:\n{read(self.message_log, tail)}\n")


def start_server(*settings, **options):
    """A started harness Server; if it fails to start, the process is stopped before the
    error propagates."""
    server = Server(*settings, **options)
    try:
        return server.__enter__()
    except BaseException:
        server.__exit__(None, None, None)
        raise


class Flow:
    """The sipp processes of one test, in a scratch directory removed when the test ends."""

    def __init__(self, test, server):
        self.test = test
        self.server = server
        self.workdir = tempfile.mkdtemp(prefix="strowger-sipp-")
        self.processes = []
        test.addCleanup(self._clean_up)

    def _clean_up(self):
        for p in self.processes:
            p.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def sipp(self, name, scenario, port=None, **options):
        """A sipp against the server's SIP port, or against `port` (a TLS bridge)."""
        p = Sipp(name, scenario, port or self.server.sip_port, self.workdir, **options)
        self.processes.append(p)
        return p

    def callee(self, name, ooc, **options):
        """Starts a callee that registers its user (bob unless told), with digest when given
        `auth`, and plays `ooc` when called; returns once it is registered."""
        scenario = "callee_register_auth.xml" if options.get("auth") else "callee_register.xml"
        p = self.sipp(name, scenario, ooc=ooc, **options).start()
        deadline = time.monotonic() + 5
        while not p.registered():
            if not p.running() or time.monotonic() > deadline:
                p.stop()
                self.fail(f"callee '{name}' did not register")
            time.sleep(0.05)
        return p

    def run(self, caller, callees=()):
        """Runs `caller` to its end, gives the callees a few seconds more to finish (fewer when
        the caller already failed), and fails the test with every log unless all exited 0."""
        caller.start().wait()
        deadline = time.monotonic() + (10 if caller.returncode == 0 else 2)
        for p in callees:
            p.wait(max(0.1, deadline - time.monotonic()))
        if any(p.returncode != 0 for p in [caller, *callees]):
            self.fail("a sipp scenario failed")

    def fail(self, why):
        reports = "\n".join(p.report() for p in self.processes)
        server_log = self.server.output()[-4000:]
        self.test.fail(f"{why}\n{reports}\n==== server log (tail):\n{server_log}")
