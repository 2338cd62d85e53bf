#!/usr/bin/env python3
"""The registrar's bindings live in the SQLite store under general.data_dir and survive a
restart: alice registers over UDP, the server is stopped with SIGTERM, a new server starts on
the same data directory, and an INVITE to alice reaches alice's socket. A binding whose
expiry passed while the server was down is not used (404), and a fetch of alice's bindings
(a REGISTER without Contact, RFC 3261 10.2.3) still lists hers.

The UAs are a few lines of Python on UDP sockets, which makes each header easy to check.
"""

import os
import re
import shutil
import socket
import tempfile
import time
import unittest

from harness import Server, run_tests

DOMAIN = "strowger.test"
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length"}


class Sip:
    """A parsed SIP message: first line, header values by lower-case long name."""

    def __init__(self, data):
        text = data.decode("utf-8", errors="replace")
        head = text.split("\r\n\r\n", 1)[0]
        lines = head.split("\r\n")
        self.first_line = lines[0]
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            self.headers.setdefault(COMPACT.get(name, name), []).append(value.strip())
        self.text = text

    @property
    def status(self):
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(m.group(1)) if m else None

    @property
    def method(self):
        return None if self.status else self.first_line.split(" ", 1)[0]

    def values(self, name):
        """Every comma-separated value of a header, over all its lines."""
        return [v.strip() for line in self.headers.get(name, []) for v in line.split(",")]

    def one(self, name):
        return self.headers[name][0]


class UdpAgent:
    """A UA on its own loopback UDP socket."""

    def __init__(self, user):
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.contact = f"sip:{user}@127.0.0.1:{self.port}"
        self.serial = 0

    def close(self):
        self.sock.close()

    def new_branch(self):
        self.serial += 1
        return f"z9hG4bK-{self.user}-{os.getpid()}-{self.serial}-{time.monotonic_ns()}"

    def via(self, branch):
        return f"SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport"

    def send(self, text, port):
        self.sock.sendto(text.replace("\n", "\r\n").encode(), ("127.0.0.1", port))

    def receive(self, timeout):
        """The next message within `timeout` seconds, or None."""
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65535)
        except socket.timeout:
            return None
        return Sip(data)

    def request(self, text, port, final_within=5.0):
        """Sends a request, retransmitting it as Timer E would (0.5 s, 1 s, 2 s), and returns
        its final response, or None if none came in time."""
        deadline = time.monotonic() + final_within
        interval = 0.5
        self.send(text, port)
        next_send = time.monotonic() + interval
        provisional = False
        while time.monotonic() < deadline:
            message = self.receive(max(0.01, min(next_send, deadline) - time.monotonic()))
            if message is None:
                if not provisional and time.monotonic() >= next_send:
                    self.send(text, port)
                    interval = min(interval * 2, 4.0)
                    next_send = time.monotonic() + interval
                continue
            if message.status is None:
                continue  # a stray request; only responses are awaited here
            if message.status < 200:
                provisional = True  # the server has it; on loopback nothing gets lost after that
                continue
            return message
        return None

    def register(self, port, expires, contact=True):
        """REGISTERs this agent's contact for `expires` seconds (without a Contact: fetches
        the bindings); returns the final response."""
        branch = self.new_branch()
        contact_lines = f"Contact: <{self.contact}>\nExpires: {expires}\n" if contact else ""
        return self.request(
            f"REGISTER sip:{DOMAIN} SIP/2.0\n"
            f"Via: {self.via(branch)}\n"
            f"Max-Forwards: 70\n"
            f"From: <sip:{self.user}@{DOMAIN}>;tag={self.user}-reg\n"
            f"To: <sip:{self.user}@{DOMAIN}>\n"
            f"Call-ID: reg-{branch}\n"
            f"CSeq: 1 REGISTER\n"
            f"{contact_lines}"
            f"Content-Length: 0\n\n", port)


def invite(caller, callee_user, port):
    """Sends an INVITE from `caller` to callee_user@DOMAIN; returns (branch, call_id)."""
    branch = caller.new_branch()
    call_id = f"call-{branch}"
    text = (f"INVITE sip:{callee_user}@{DOMAIN} SIP/2.0\n"
            f"Via: {caller.via(branch)}\n"
            f"Max-Forwards: 70\n"
            f"From: <sip:{caller.user}@{DOMAIN}>;tag={caller.user}-1\n"
            f"To: <sip:{callee_user}@{DOMAIN}>\n"
            f"Call-ID: {call_id}\n"
            f"CSeq: 1 INVITE\n"
            f"Contact: <{caller.contact}>\n"
            f"Content-Length: 0\n\n")
    caller.send(text, port)
    return branch, call_id


def ack_for(caller, callee_user, branch, call_id, final):
    """The ACK for a non-2xx final response: same branch and Request-URI as the INVITE."""
    return (f"ACK sip:{callee_user}@{DOMAIN} SIP/2.0\n"
            f"Via: {caller.via(branch)}\n"
            f"Max-Forwards: 70\n"
            f"From: <sip:{caller.user}@{DOMAIN}>;tag={caller.user}-1\n"
            f"To: {final.one('to')}\n"
            f"Call-ID: {call_id}\n"
            f"CSeq: 1 ACK\n"
            f"Content-Length: 0\n\n")


def start_server(*settings, **options):
    """A started Server; one that fails to start is stopped before the error propagates."""
    server = Server(*settings, **options)
    try:
        return server.__enter__()
    except BaseException:
        server.__exit__(None, None, None)
        raise


def sent_by_port(via):
    """The port a response to this Via value goes to (RFC 3261 18.2.2; 5060 when absent)."""
    m = re.match(r"SIP/2\.0/\w+\s+(\[[^\]]+\]|[^:;\s]+)(?::(\d+))?", via)
    return int(m.group(2)) if m and m.group(2) else 5060


def expires_of(response, contact):
    """The expires the registrar gave `contact` in a REGISTER response, or None."""
    for value in response.values("contact"):
        if f"<{contact}>" in value or value.startswith(contact):
            m = re.search(r";\s*expires\s*=\s*(\d+)", value, re.IGNORECASE)
            return int(m.group(1)) if m else None
    return None


class RegistrarPersistence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="strowger-registrar-")
        cls.addClassCleanup(shutil.rmtree, cls.data_dir, True)
        cls.alice = UdpAgent("alice")
        cls.carol = UdpAgent("carol")  # registers for 2 s only
        cls.caller = UdpAgent("dave")
        for agent in (cls.alice, cls.carol, cls.caller):
            cls.addClassCleanup(agent.close)
        settings = ("sip.min_expires=1",)

        first = start_server(*settings, data_dir=cls.data_dir)
        try:
            cls.alice_reply = cls.alice.register(first.sip_port, 3600)
            cls.carol_reply = cls.carol.register(first.sip_port, 2)
            carol_registered = time.monotonic()
            cls.first_exit, _ = first.stop()
            cls.first_log = first.output()
        finally:
            first.__exit__(None, None, None)

        # Let carol's binding lapse while no server runs.
        time.sleep(max(0.0, carol_registered + 3.0 - time.monotonic()))
        cls.server = start_server(*settings, data_dir=cls.data_dir)
        cls.addClassCleanup(cls.server.__exit__, None, None, None)

    def setUp(self):
        for reply in (self.alice_reply, self.carol_reply):
            self.assertIsNotNone(reply, f"no answer to REGISTER\nserver log:\n{self.first_log}")
        self.assertEqual(self.alice_reply.status, 200, self.alice_reply.text)
        self.assertEqual(self.carol_reply.status, 200, self.carol_reply.text)
        self.assertEqual(self.first_exit, 0, self.first_log)

    def server_log(self):
        return "server log:\n" + self.server.output()[-3000:]

    def test_registration_lists_the_binding_with_its_expires(self):
        # The time left, which a clock tick during the request may round down by a second.
        self.assertIn(expires_of(self.alice_reply, self.alice.contact), (3599, 3600),
                      self.alice_reply.text)
        self.assertIn(expires_of(self.carol_reply, self.carol.contact), (1, 2),
                      self.carol_reply.text)

    def test_fetching_bindings_after_restart_lists_alices(self):
        fetch = UdpAgent("alice")
        self.addCleanup(fetch.close)
        reply = fetch.register(self.server.sip_port, expires=None, contact=False)
        self.assertIsNotNone(reply, self.server_log())
        self.assertEqual(reply.status, 200, reply.text)
        expires = expires_of(reply, self.alice.contact)
        self.assertIsNotNone(expires, reply.text)
        self.assertTrue(3500 < expires <= 3600, reply.text)

    def test_call_to_alice_after_restart_reaches_her_socket(self):
        branch, call_id = invite(self.caller, "alice", self.server.sip_port)

        forwarded = self.alice.receive(5)
        self.assertIsNotNone(forwarded, "the INVITE never reached alice\n" + self.server_log())
        self.assertEqual(forwarded.method, "INVITE", forwarded.text)
        self.assertEqual(forwarded.first_line, f"INVITE {self.alice.contact} SIP/2.0")
        self.assertEqual(forwarded.one("call-id"), call_id)
        self.assertEqual(forwarded.one("max-forwards"), "69")
        self.assertEqual(len(forwarded.values("via")), 2, forwarded.text)
        self.assertTrue(forwarded.values("record-route"), forwarded.text)

        # Alice is busy; the proxy acknowledges her 486 itself (hop by hop) and passes it on.
        busy = ("SIP/2.0 486 Busy Here\n"
                + "".join(f"Via: {v}\n" for v in forwarded.headers["via"])
                + f"From: {forwarded.one('from')}\n"
                + f"To: {forwarded.one('to')};tag=alice-busy\n"
                + f"Call-ID: {call_id}\n"
                + f"CSeq: {forwarded.one('cseq')}\n"
                + "Content-Length: 0\n\n")
        proxy_port = sent_by_port(forwarded.values("via")[0])
        ack = None
        for _ in range(4):  # 486 retransmitted as Timer G would, until the ACK comes
            self.alice.send(busy, proxy_port)
            ack = self.alice.receive(1.0)
            if ack is not None and ack.method == "ACK":
                break
        self.assertIsNotNone(ack, "no ACK for alice's 486\n" + self.server_log())
        self.assertEqual(ack.method, "ACK", ack.text)
        self.assertEqual(ack.values("via")[0], forwarded.values("via")[0],
                         "the ACK for a non-2xx response reuses the INVITE's branch")

        final = None
        for _ in range(10):  # skip the 100 Trying and any retransmission
            message = self.caller.receive(2.0)
            if message is None or (message.status and message.status >= 200):
                final = message
                break
        self.assertIsNotNone(final, "no final response for the caller\n" + self.server_log())
        self.assertEqual(final.status, 486, final.text)
        self.caller.send(ack_for(self.caller, "alice", branch, call_id, final),
                         self.server.sip_port)

    def test_binding_that_expired_while_down_is_not_used(self):
        branch, call_id = invite(self.caller, "carol", self.server.sip_port)
        final = None
        for _ in range(10):
            message = self.caller.receive(2.0)
            if message is None or (message.status and message.status >= 200):
                final = message
                break
        self.assertIsNotNone(final, "no final response\n" + self.server_log())
        self.assertEqual(final.status, 404, final.text)
        self.caller.send(ack_for(self.caller, "carol", branch, call_id, final),
                         self.server.sip_port)
        self.assertIsNone(self.carol.receive(0.5), "the expired contact was called")


if __name__ == "__main__":
    run_tests()
