#!/usr/bin/env python3
"""Digest authentication (RFC 3261 §22, RFC 7616) and SIP over TLS through the real server,
with accounts made by `strowger user add` in realm example.test.

sipp plays the registrations and calls (tests/sipp/*auth*.xml): the right password, a wrong
one, another user's identity (403), a stale nonce (stale=true, then accepted), the lockout
after ten failures a minute, and calls whose INVITE is challenged with 407. Debian's sipp has
no TLS, so for SIP over TLS each sipp speaks TCP to a bridge (tls_bridge.py) that carries its
connection over TLS to the server's tls: listener.

What sipp cannot be made to send, a Python UA on a UDP socket sends byte for byte: a response
replayed with the same nonce-count, an Authorization header that cannot be read, and the
states of sip.auth = "auto" before and after the first user exists.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import BINARY, free_port, require_tool, run_tests
from sipp import TCP, UDP, Flow, start_server
from tls_bridge import TlsBridge

REALM = "example.test"
USERS = {"alice": "alicepw", "bob": "bobpw"}


def add_user(data_dir, name, password):
    subprocess.run([BINARY, "user", "add", name, password, "--set", f"general.data_dir={data_dir}",
                    "--set", f"general.realm={REALM}"], check=True, capture_output=True)


def metric(http_port, name, labels=""):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" (\d+)"
    m = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return int(m.group(1)) if m else None


class Ua:
    """A UA on a UDP socket that computes its own digest responses (MD5, qop=auth)."""

    def __init__(self, server_port, user):
        self.server = ("127.0.0.1", server_port)
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]
        self.cseq = 0
        self.call_id = f"{user}-{os.getpid()}-{time.monotonic_ns()}@127.0.0.1"

    def close(self):
        self.sock.close()

    def register(self, authorization=None):
        """Sends one REGISTER (with an Authorization header value, if given) and returns
        (status, {lowercase header name: [values]}) of the answer."""
        self.cseq += 1
        lines = [f"REGISTER sip:{REALM} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-{self.cseq}-{time.monotonic_ns()};rport",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.user}@{REALM}>;tag=t{self.cseq}",
                 f"To: <sip:{self.user}@{REALM}>",
                 f"Call-ID: {self.call_id}",
                 f"CSeq: {self.cseq} REGISTER",
                 f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>",
                 "Expires: 120"]
        if authorization is not None:
            lines.append(f"Authorization: {authorization}")
        self.sock.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), self.server)
        data, _ = self.sock.recvfrom(65535)
        head = data.decode().split("\r\n\r\n", 1)[0].split("\r\n")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(head[0].split(" ")[1]), headers

    @staticmethod
    def algorithms(headers):
        """The algorithm of each challenge, in the order offered."""
        return [re.search(r"algorithm=([\w-]+)", h).group(1) for h in headers["www-authenticate"]]

    @staticmethod
    def nonce(headers):
        return re.search(r'nonce="([^"]+)"', headers["www-authenticate"][0]).group(1)

    def credentials(self, nonce, nc, password=None, cnonce="0a4f113b"):
        password = password or USERS[self.user]
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
        uri = f"sip:{REALM}"
        ha1 = md5(f"{self.user}:{REALM}:{password}")
        ha2 = md5(f"REGISTER:{uri}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        return (f'Digest username="{self.user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
                f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={nc}')


class SipAuth(unittest.TestCase):
    def start(self, *settings, users=USERS):
        data_dir = os.path.join(self.scratch(), "var")
        os.makedirs(data_dir)
        for name, password in users.items():
            add_user(data_dir, name, password)
        # sipp reads only the first challenge and knows only MD5 (createAuthHeader: "must use
        # MD5"), so its server offers MD5 first; tests of the default order say otherwise.
        self.server = start_server(f"general.realm={REALM}", f'sip.domains=["{REALM}"]',
                                   'sip.auth_algorithms=["MD5", "SHA-256"]', *settings,
                                   data_dir=data_dir)
        self.addCleanup(self.server.__exit__, None, None, None)
        self.flow = Flow(self, self.server)
        return self.flow

    def scratch(self):
        path = tempfile.mkdtemp(prefix="strowger-auth-")
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        return path

    def run_one(self, name, scenario, **options):
        p = self.flow.sipp(name, scenario, **options)
        self.flow.run(p)
        return p

    def metric(self, labels):
        return metric(self.server.http_port, "strowger_sip_auth_total", labels)

    # sipp: registrations

    def test_right_password_registers_and_refreshes_on_the_same_nonce(self):
        self.start()
        p = self.run_one("alice", "register_auth.xml", user="alice", auth=("alice", "alicepw"),
                         keys={"domain": REALM})
        sent = p.sent("REGISTER")
        self.assertIn("nc=00000001", sent[1].headers("Authorization")[0])
        self.assertIn("nc=00000002", sent[2].headers("Authorization")[0])
        self.assertEqual(self.metric('result="success"'), 2)
        self.assertEqual(self.metric('result="failure"'), 0)

    def test_wrong_password_is_challenged_again_and_counted(self):
        self.start()
        p = self.run_one("alice", "register_auth_refused.xml", user="alice",
                         auth=("alice", "not-her-password"), keys={"domain": REALM})
        self.assertEqual([m.status for m in p.received()], [401, 401])
        self.assertEqual(self.metric('result="failure"'), 1)
        self.assertIn("wrong password for 'alice'", self.server.output())

    def test_registering_as_another_user_is_forbidden(self):
        self.start()
        self.run_one("bob-as-alice", "register_auth_forbidden.xml", user="alice",
                     auth=("bob", "bobpw"), keys={"domain": REALM})

    def test_stale_nonce_is_rechallenged_with_stale_true(self):
        self.start("sip.nonce_lifetime=10")
        self.run_one("alice", "register_auth_stale.xml", user="alice", auth=("alice", "alicepw"),
                     keys={"domain": REALM}, pause_ms=11500)
        self.assertEqual(self.metric('result="stale"'), 1)

    def test_ten_failures_lock_the_address_out_for_everyone_on_it(self):
        self.start()
        self.run_one("guesser", "register_auth_refused.xml", user="alice",
                     auth=("alice", "guess"), keys={"domain": REALM}, calls=10)
        self.assertEqual(metric(self.server.http_port, "strowger_sip_auth_lockouts_total"), 1)
        self.assertEqual(metric(self.server.http_port, "strowger_sip_auth_locked_addresses"), 1)
        # Now even the right password from that address is refused.
        self.run_one("alice", "register_locked.xml", user="alice", auth=("alice", "alicepw"),
                     keys={"domain": REALM})
        self.assertGreaterEqual(self.metric('result="locked"'), 1)
        self.assertIn("locked out for 300 s", self.server.output())

    # sipp: calls

    def call(self, caller_port=None, callee_port=None, caller_transport=UDP,
             callee_transport=UDP):
        callee = self.flow.callee("bob", "uas_answer.xml", port=callee_port,
                                  transport=callee_transport, pause_ms=200,
                                  auth=("bob", "bobpw"), keys={"domain": REALM})
        # callee() waits for the first 2xx; with digest, the scenario is callee_register_auth.
        caller = self.flow.sipp("alice", "uac_call_auth.xml", port=caller_port,
                                transport=caller_transport, user="bob", pause_ms=300,
                                auth=("alice", "alicepw"), keys={"domain": REALM})
        self.flow.run(caller, [callee])
        invites = caller.sent("INVITE")
        self.assertEqual(len(invites), 2)
        self.assertTrue(invites[1].headers("Proxy-Authorization"))
        self.assertTrue(caller.received(status=407)[0].headers("Proxy-Authenticate")[0]
                        .startswith(f'Digest realm="{REALM}", nonce="'))
        return caller, callee

    def test_call_with_digest_over_udp(self):
        self.start()
        self.call()

    def tls_bridge(self):
        bridge = TlsBridge(self.tls_port, os.path.join(self.server.data_dir, "cert.pem")).start()
        self.addCleanup(bridge.stop)
        return bridge

    def start_with_tls(self):
        self.start_with_tls_settings()

    def start_with_tls_settings(self, *settings):
        self.tls_port = free_port(socket.SOCK_STREAM)
        sip = free_port()
        self.start(f'sip.listen=["udp:127.0.0.1:{sip}", "tcp:127.0.0.1:{sip}", '
                   f'"tls:127.0.0.1:{self.tls_port}"]', *settings)
        self.server.sip_port = sip

    def test_call_over_tls_both_sides(self):
        self.start_with_tls()
        bridge = self.tls_bridge()
        caller, callee = self.call(caller_port=bridge.port, callee_port=bridge.port,
                                   caller_transport=TCP, callee_transport=TCP)
        self.assertEqual(bridge.errors, [])
        # The proxy's Via and Record-Route on the INVITE that reached bob name TLS.
        invite = callee.received("INVITE")[0]
        self.assertRegex(invite.headers("Via")[0], r"^SIP/2\.0/TLS 127\.0\.0\.1:%d;" % self.tls_port)
        self.assertIn(";transport=tls;lr", " ".join(invite.headers("Record-Route")))

    def test_call_from_tls_to_udp(self):
        self.start_with_tls()
        bridge = self.tls_bridge()
        _, callee = self.call(caller_port=bridge.port, caller_transport=TCP)
        # Two Record-Route values, one for each side's transport (RFC 5658).
        rr = ",".join(callee.received("INVITE")[0].headers("Record-Route"))
        self.assertIn(";transport=tls;lr", rr)
        self.assertRegex(rr, r"@127\.0\.0\.1:\d+;lr")

    def test_sips_request_uri_over_plain_udp_is_refused(self):
        self.start()
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        ua.sock.sendto((f"OPTIONS sips:{REALM} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{ua.port};branch=z9hG4bK-sips\r\n"
                        f"From: <sip:alice@{REALM}>;tag=1\r\nTo: <sips:{REALM}>\r\n"
                        "Call-ID: sips-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                        "Content-Length: 0\r\n\r\n").encode(), ua.server)
        data, _ = ua.sock.recvfrom(65535)
        self.assertTrue(data.startswith(b"SIP/2.0 416 "), data)

    # Python UA: what sipp cannot send

    def test_replayed_nonce_count_is_refused(self):
        self.start()
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        status, headers = ua.register()
        self.assertEqual(status, 401)
        nonce = Ua.nonce(headers)
        first = ua.credentials(nonce, "00000001")
        self.assertEqual(ua.register(first)[0], 200)
        # The same credentials again (a captured REGISTER sent once more): not accepted.
        status, headers = ua.register(first)
        self.assertEqual(status, 401)
        self.assertNotIn("stale=true", headers["www-authenticate"][0])
        # The next count on the same nonce is.
        self.assertEqual(ua.register(ua.credentials(nonce, "00000002"))[0], 200)
        self.assertEqual(self.metric('result="replay"'), 1)
        self.assertIn("replayed nonce-count 00000001 for 'alice'", self.server.output())

    def request(self, ua, method, from_uri, to_uri, branch=None, call_id=None, to_tag=""):
        branch = branch or f"z9hG4bK-{method}-{time.monotonic_ns()}"
        call_id = call_id or f"{method}-{time.monotonic_ns()}@127.0.0.1"
        ua.sock.sendto((f"{method} {to_uri} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{ua.port};branch={branch};rport\r\n"
                        f"Max-Forwards: 70\r\nFrom: <{from_uri}>;tag=f1\r\n"
                        f"To: <{to_uri}>{to_tag}\r\nCall-ID: {call_id}\r\n"
                        f"CSeq: 1 {method}\r\nContact: <sip:x@127.0.0.1:{ua.port}>\r\n"
                        "Content-Length: 0\r\n\r\n").encode(), ua.server)
        while True:
            data, _ = ua.sock.recvfrom(65535)
            status = int(data.split(b" ", 2)[1])
            if status >= 200:
                return status, data.decode()

    def test_what_is_not_challenged(self):
        self.start()
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        # Another domain calling one of our users (who is not registered now): routed, not
        # challenged.
        status, _ = self.request(ua, "INVITE", "sip:carol@elsewhere.example", f"sip:alice@{REALM}")
        self.assertEqual(status, 480)
        # Our user calling: challenged.
        status, answer = self.request(ua, "INVITE", f"sip:bob@{REALM}", f"sip:alice@{REALM}")
        self.assertEqual(status, 407)
        self.assertIn("Proxy-Authenticate: Digest", answer)
        # A CANCEL is never challenged (it has no transaction here to cancel: 481).
        status, _ = self.request(ua, "CANCEL", f"sip:bob@{REALM}", f"sip:alice@{REALM}")
        self.assertEqual(status, 481)
        # Nor is a request inside a dialog (To tag), nor OPTIONS to the server itself.
        status, _ = self.request(ua, "BYE", f"sip:bob@{REALM}", f"sip:alice@{REALM}",
                                 to_tag=";tag=t9")
        self.assertNotIn(status, (401, 407))
        status, _ = self.request(ua, "OPTIONS", f"sip:bob@{REALM}", f"sip:{REALM}")
        self.assertEqual(status, 200)

    def test_tls_handshake_never_finished_is_dropped_after_the_idle_timeout(self):
        self.start_with_tls_settings("sip.tcp_idle_timeout=2")
        silent = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
        self.addCleanup(silent.close)
        # A working TLS client meanwhile is not disturbed.
        bridge = self.tls_bridge()
        start = time.monotonic()
        self.run_one("alice", "register_auth.xml", port=bridge.port, transport=TCP, user="alice",
                     auth=("alice", "alicepw"), keys={"domain": REALM})
        silent.settimeout(max(0.1, 6 - (time.monotonic() - start)))
        self.assertEqual(silent.recv(100), b"", "closed without a byte")
        self.assertLess(time.monotonic() - start, 6)

    def test_malformed_authorization_gets_400(self):
        self.start()
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        status, _ = ua.register('Digest username="alice", realm="example.test", nonce=')
        self.assertEqual(status, 400)
        self.assertEqual(self.metric('result="malformed"'), 1)
        # A nonce this server never issued is a failed login, answered with a new challenge.
        status, headers = ua.register(ua.credentials("0" * 56, "00000001"))
        self.assertEqual(status, 401)
        self.assertIn("nonce=", headers["www-authenticate"][0])

    def test_auto_is_open_until_the_first_user_exists(self):
        self.start(users={})
        self.assertIn("any phone may register as any user", self.server.output())
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        self.assertEqual(ua.register()[0], 200)
        # `strowger user add` while the server runs: from the next second on, login is required.
        add_user(self.server.data_dir, "alice", "alicepw")
        time.sleep(1.1)
        status, headers = ua.register()
        self.assertEqual(status, 401)
        self.assertEqual(ua.register(ua.credentials(Ua.nonce(headers), "00000001"))[0], 200)

    def test_default_challenges_are_sha256_then_md5(self):
        data_dir = os.path.join(self.scratch(), "var")
        os.makedirs(data_dir)
        add_user(data_dir, "alice", "alicepw")
        self.server = start_server(f"general.realm={REALM}", data_dir=data_dir)
        self.addCleanup(self.server.__exit__, None, None, None)
        ua2 = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua2.close)
        status, headers = ua2.register()
        self.assertEqual(status, 401)
        self.assertEqual(Ua.algorithms(headers), ["SHA-256", "MD5"])

    def test_auth_algorithms_sets_the_challenges_and_their_order(self):
        self.start('sip.auth_algorithms=["MD5"]')
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        status, headers = ua.register()
        self.assertEqual(status, 401)
        self.assertEqual(len(headers["www-authenticate"]), 1)
        self.assertIn("algorithm=MD5", headers["www-authenticate"][0])
        self.server.__exit__(None, None, None)
        self.start('sip.auth_algorithms=["SHA-256", "MD5"]')
        ua2 = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua2.close)
        status, headers = ua2.register()
        self.assertEqual(status, 401)
        self.assertEqual(Ua.algorithms(headers), ["SHA-256", "MD5"])

    def test_required_challenges_without_users_and_off_never_does(self):
        self.start("sip.auth=required", users={})
        ua = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua.close)
        self.assertEqual(ua.register()[0], 401)
        self.server.__exit__(None, None, None)
        self.start("sip.auth=off")
        ua2 = Ua(self.server.sip_port, "alice")
        self.addCleanup(ua2.close)
        self.assertEqual(ua2.register()[0], 200)


if __name__ == "__main__":
    require_tool("sipp")
    run_tests()
