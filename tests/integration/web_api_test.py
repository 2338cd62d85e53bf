#!/usr/bin/env python3
"""The HTTP service's web API from outside, as docs/signaling.md describes it: WebSocket JSON
signaling on /ws, /api/ice-servers with TURN REST credentials that a TURN Allocate accepts,
Prometheus /metrics whose values follow what the other services do, `strowger cert` and HTTPS
with its certificate, 404 for unknown paths, and HTTP/1.1 keep-alive.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import BINARY, Server, free_port, run_tests
from turn_client import TurnClient
from ws_client import TEXT, BINARY as WS_BINARY, Closed, WebSocket, frame

SECRET = "correct-horse-battery"
LOOPBACK = "127.0.0.1"
REST_LIFETIME = 86400


def http_get(port, path, host_header=None, tls=False, headers=None):
    """(status, {lower-case header: value}, body bytes) of one GET on a fresh connection."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(LOOPBACK, port, timeout=5, context=context)
    else:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        all_headers = dict(headers or {})
        if host_header is not None:
            all_headers["Host"] = host_header
        conn.request("GET", path, headers=all_headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def ice_servers(port, host_header=None, tls=False):
    status, headers, body = http_get(port, "/api/ice-servers", host_header, tls)
    assert status == 200, f"/api/ice-servers answered {status}: {body!r}"
    return headers, json.loads(body)


def rest_password(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()


def sip_options(port, call_id):
    """Sends an OPTIONS for the server itself over UDP; returns the status code of the final
    answer, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        local = s.getsockname()[1]
        request = (f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {LOOPBACK}:{local};branch=z9hG4bK-{call_id};rport\r\n"
                   "Max-Forwards: 70\r\n"
                   f"From: <sip:metrics@{LOOPBACK}>;tag={call_id}\r\n"
                   f"To: <sip:{LOOPBACK}:{port}>\r\n"
                   f"Call-ID: {call_id}\r\n"
                   "CSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n").encode()
        s.sendto(request, (LOOPBACK, port))
        s.settimeout(0.5)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            match = re.match(rb"SIP/2\.0 (\d{3}) ", data)
            if match and int(match.group(1)) >= 200:
                return int(match.group(1))
        return None


def make_certificate(data_dir):
    harness.require_tool("openssl")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(data_dir, "key.pem"),
                    "-out", os.path.join(data_dir, "cert.pem")],
                   check=True, capture_output=True)


class ServerCase(unittest.TestCase):
    """A fresh server per test."""
    settings = ()

    def start(self, *settings, **kwargs):
        server = Server(*settings, **kwargs)
        server.__enter__()
        self.addCleanup(server.__exit__, None, None, None)
        return server

    def setUp(self):
        self.server = self.start(*self.settings)
        self.port = self.server.http_port
        self.sockets = []
        self.addCleanup(lambda: [ws.close() for ws in self.sockets])

    def ws(self, name=None):
        """A /ws connection, announced as `name` if given (the welcome is returned too)."""
        ws = WebSocket.connect(LOOPBACK, self.port, "/ws")
        self.sockets.append(ws)
        if name is None:
            return ws
        ws.send_json({"type": "hello", "name": name})
        welcome = ws.recv_json()
        self.assertEqual(welcome.get("type"), "welcome", welcome)
        return ws, welcome

    def assertError(self, message, code, ref=None):
        self.assertEqual(message.get("type"), "error", message)
        self.assertEqual(message.get("code"), code, message)
        self.assertIsInstance(message.get("message"), str, message)
        self.assertTrue(message["message"], message)
        self.assertEqual(message.get("ref"), ref, message)
        self.assertLessEqual(set(message), {"type", "code", "message", "ref"}, message)

    def assertQuiet(self, ws, seconds=0.3):
        try:
            message = ws.recv(seconds)
        except TimeoutError:
            return
        self.fail(f"unexpected message {message!r}")


# ------------------------------------------------------------------------------------------
class WebSocketSignaling(ServerCase):
    def test_hello_welcome_presence_and_list(self):
        alice, welcome = self.ws("alice")
        alice_id = welcome["id"]
        self.assertIsInstance(alice_id, int)
        self.assertEqual(welcome, {"type": "welcome", "id": alice_id, "name": "alice",
                                   "peers": []})

        bob, welcome = self.ws("bob")
        bob_id = welcome["id"]
        self.assertIsInstance(bob_id, int)
        self.assertNotEqual(bob_id, alice_id)
        self.assertEqual(welcome, {"type": "welcome", "id": bob_id, "name": "bob",
                                   "peers": [{"id": alice_id, "name": "alice"}]})
        self.assertEqual(alice.recv_json(), {"type": "peer-joined",
                                             "peer": {"id": bob_id, "name": "bob"}})
        self.assertQuiet(bob)

        # list: everyone else online, as in the welcome.
        alice.send_json({"type": "list"})
        self.assertEqual(alice.recv_json(), {"type": "peers",
                                             "peers": [{"id": bob_id, "name": "bob"}]})
        carol, welcome = self.ws("carol")
        carol_id = welcome["id"]
        self.assertEqual(sorted(welcome["peers"], key=lambda p: p["id"]),
                         sorted([{"id": alice_id, "name": "alice"},
                                 {"id": bob_id, "name": "bob"}], key=lambda p: p["id"]))
        for ws in (alice, bob):
            self.assertEqual(ws.recv_json(), {"type": "peer-joined",
                                              "peer": {"id": carol_id, "name": "carol"}})
        carol.send_json({"type": "list"})
        listed = carol.recv_json()
        self.assertEqual(listed["type"], "peers", listed)
        self.assertEqual(sorted(p["id"] for p in listed["peers"]), sorted([alice_id, bob_id]))

        # A clean close, and a TCP connection dropped without a close frame: both announced.
        bob.close()
        for ws in (alice, carol):
            self.assertEqual(ws.recv_json(), {"type": "peer-left",
                                              "peer": {"id": bob_id, "name": "bob"}})
        carol.sock.close()
        carol.closed = True
        self.assertEqual(alice.recv_json(), {"type": "peer-left",
                                             "peer": {"id": carol_id, "name": "carol"}})
        alice.send_json({"type": "list"})
        self.assertEqual(alice.recv_json(), {"type": "peers", "peers": []})

        # The name is free again; the id is a new one.
        bob2, welcome = self.ws("bob")
        self.assertNotIn(welcome["id"], (alice_id, bob_id, carol_id))
        self.assertEqual(welcome["peers"], [{"id": alice_id, "name": "alice"}])

    def test_ping_pong(self):
        alice, _ = self.ws("alice")
        alice.send_json({"type": "ping"})
        self.assertEqual(alice.recv_json(), {"type": "pong"})

    def test_relaying_with_from_and_fromName(self):
        alice, welcome = self.ws("alice")
        alice_id = welcome["id"]
        bob, welcome = self.ws("bob")
        bob_id = welcome["id"]
        alice.recv_json()  # peer-joined
        messages = [
            {"type": "call", "media": {"audio": True, "video": False}},
            {"type": "accept"},
            {"type": "decline", "reason": "busy"},
            {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"},
            {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=é✓\r\n"},
            {"type": "candidate",
             "candidate": {"candidate": "candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host",
                           "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": None}},
            {"type": "candidate", "candidate": None, "n": 1.5, "list": [1, "two", [3]]},
            {"type": "hangup"},
        ]
        for sent in messages:
            alice.send_json({**sent, "to": bob_id})
            wanted = {**sent, "from": alice_id, "fromName": "alice"}
            got = bob.recv_json()
            self.assertEqual(got, wanted)
            self.assertNotIn("to", got)
        bob.send_json({"type": "answer", "to": alice_id, "sdp": "v=0\r\n"})
        self.assertEqual(alice.recv_json(), {"type": "answer", "sdp": "v=0\r\n",
                                             "from": bob_id, "fromName": "bob"})
        # A big SDP (60 000 bytes) is not refused.
        sdp = "a=x-filler:" + "0123456789" * 6000
        alice.send_json({"type": "offer", "to": bob_id, "sdp": sdp})
        self.assertEqual(bob.recv_json(), {"type": "offer", "sdp": sdp, "from": alice_id,
                                           "fromName": "alice"})
        self.assertQuiet(alice)

    def test_error_codes(self):
        alice, welcome = self.ws("alice")
        alice_id = welcome["id"]
        ws = self.ws()
        # Before hello.
        ws.send_json({"type": "list"})
        self.assertError(ws.recv_json(), "not-announced", "list")
        ws.send_json({"type": "offer", "to": alice_id, "sdp": "v=0\r\n"})
        self.assertError(ws.recv_json(), "not-announced", "offer")
        for text in ("not json", "[1, 2]", '"hello"', "42", "{\"type\": \"hello\"", ""):
            ws.send_text(text)
            self.assertError(ws.recv_json(), "bad-json")
        for obj in ({"name": "x"}, {"type": 5}, {"type": None}, {"type": ["hello"]}):
            ws.send_json(obj)
            self.assertError(ws.recv_json(), "bad-message")
        self.assertQuiet(alice)

        # Names: 1-64 characters, no control characters, not in use.
        for name in ("", "x" * 65, "é" * 65, "a\x01b", "line\nbreak", "tab\there", "del\x7f",
                     "nul\x00"):
            ws.send_json({"type": "hello", "name": name})
            self.assertError(ws.recv_json(), "bad-name", "hello")
        ws.send_json({"type": "hello", "name": "alice"})
        self.assertError(ws.recv_json(), "name-taken", "hello")
        ws.send_json({"type": "hello", "name": "é" * 64})
        welcome = ws.recv_json()
        self.assertEqual(welcome["type"], "welcome", welcome)
        self.assertEqual(welcome["name"], "é" * 64)
        self.assertEqual(alice.recv_json()["type"], "peer-joined")
        long_name, _ = self.ws("n" * 64)
        alice.recv_json()
        ws.recv_json()

        # After hello.
        ws.send_json({"type": "hello", "name": "again"})
        self.assertError(ws.recv_json(), "already-announced", "hello")
        ws.send_json({"type": "frobnicate", "to": alice_id})
        self.assertError(ws.recv_json(), "unknown-type", "frobnicate")
        ws.send_json({"type": "offer", "to": 987654321, "sdp": "v=0\r\n"})
        self.assertError(ws.recv_json(), "unknown-peer", "offer")
        ws.send_json({"type": "offer", "to": "alice", "sdp": "v=0\r\n"})
        self.assertError(ws.recv_json(), "bad-message", "offer")
        self.assertQuiet(alice)
        # The connection still works after all of that.
        ws.send_json({"type": "ping"})
        self.assertEqual(ws.recv_json(), {"type": "pong"})
        ws.send_json({"type": "hangup", "to": alice_id})
        self.assertEqual(alice.recv_json(), {"type": "hangup", "from": welcome["id"],
                                             "fromName": "é" * 64})

    def test_binary_frames_are_refused(self):
        alice, welcome = self.ws("alice")
        bob, _ = self.ws("bob")
        alice.recv_json()
        bob.send_frame(WS_BINARY, json.dumps({"type": "offer", "to": welcome["id"],
                                              "sdp": "v=0\r\n"}).encode())
        # Refused: an error or a close for bob (the docs leave which), nothing for alice.
        try:
            kind, payload = bob.recv(2)
            self.assertEqual(kind, TEXT, payload)
            self.assertEqual(json.loads(payload)["type"], "error", payload)
        except Closed:
            pass
        except TimeoutError:
            self.fail("a binary frame was neither answered with an error nor closed")
        try:
            message = alice.recv_json(0.5)
        except TimeoutError:
            return
        self.assertEqual(message["type"], "peer-left", message)

    def test_rate_limit_then_1008(self):
        alice, _ = self.ws("alice")
        ping = frame(TEXT, b'{"type":"ping"}')
        alice.send_raw(ping * 250)  # one write: the server sees them within a millisecond
        answers = [alice.recv_json() for _ in range(250)]
        pongs = sum(a == {"type": "pong"} for a in answers)
        refused = [a for a in answers if a != {"type": "pong"}]
        for message in refused:
            # The refused message is dropped unread, so its type is not known: no `ref`
            # is as right as "ping".
            self.assertError(message, "rate-limited", message.get("ref") and "ping")
        # A burst of 200 (hello took one), a little refilled at 50/s.
        self.assertGreaterEqual(pongs, 190, f"{pongs} of 250 answered")
        self.assertLessEqual(pongs, 230, f"{pongs} of 250 answered")
        self.assertGreaterEqual(len(refused), 20)

        alice.send_raw(ping * 300)
        code, reason, seen = alice.wait_closed(timeout=5)
        self.assertEqual(code, 1008, f"closed with {code} {reason!r}")
        # Closed once about 100 messages in a row were refused, counting from the last one
        # let through (in the first burst or the second).
        streak = 0
        for message in answers + [json.loads(payload) for _, payload in seen]:
            if message == {"type": "pong"}:
                streak = 0
            else:
                self.assertError(message, "rate-limited", message.get("ref") and "ping")
                streak += 1
        self.assertGreaterEqual(streak, 99, "closed before 100 refused messages in a row")
        self.assertLessEqual(streak, 101, "not closed after 100 refused messages in a row")

    def test_messages_over_64_kib_close_with_1009(self):
        alice, welcome = self.ws("alice")
        bob, _ = self.ws("bob")
        alice.recv_json()
        # One frame.
        payload = json.dumps({"type": "offer", "to": welcome["id"],
                              "sdp": "x" * 70000}).encode()
        self.send_in_background(bob, frame(TEXT, payload))
        code, reason, seen = bob.wait_closed(timeout=5)
        self.assertEqual(code, 1009, f"closed with {code} {reason!r} after {seen!r}")
        self.assertEqual(alice.recv_json()["type"], "peer-left")
        self.assertQuiet(alice)
        # One message in two frames of 40 000 bytes each.
        carol, _ = self.ws("carol")
        alice.recv_json()
        text = json.dumps({"type": "offer", "to": welcome["id"], "sdp": "y" * 80000}).encode()
        self.send_in_background(carol, frame(TEXT, text[:40000], fin=False)
                                + frame(0, text[40000:], fin=True))
        code, reason, seen = carol.wait_closed(timeout=5)
        self.assertEqual(code, 1009, f"closed with {code} {reason!r} after {seen!r}")
        self.assertEqual(alice.recv_json()["type"], "peer-left")
        self.assertQuiet(alice)

    def send_in_background(self, ws, data):
        """Writes while the test reads: the server may close before it has read it all."""
        def write():
            try:
                ws.sock.sendall(data)
            except OSError:
                pass
        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)


class HttpService(ServerCase):
    def test_call_app_is_served(self):
        status, headers, body = http_get(self.port, "/call")
        if status in (301, 302, 307, 308):  # e.g. to /call/, so relative links work
            location = headers.get("location", "")
            self.assertTrue(location.startswith("/call"), headers)
            status, headers, body = http_get(self.port, location)
        self.assertEqual(status, 200, body[:200])
        self.assertTrue(headers.get("content-type", "").startswith("text/html"), headers)
        self.assertIn(b"<html", body[:2000].lower())

    def test_open_connections_do_not_hold_up_a_shutdown(self):
        with socket.create_connection((LOOPBACK, self.port), timeout=5) as s:
            s.sendall(b"GET /sign_in?parked HTTP/1.0\r\n\r\n")
            while s.recv(4096):
                pass
        wait = socket.create_connection((LOOPBACK, self.port), timeout=5)
        self.addCleanup(wait.close)
        wait.sendall(b"GET /wait?peer_id=1 HTTP/1.0\r\n\r\n")
        alice, _ = self.ws("alice")
        idle = socket.create_connection((LOOPBACK, self.port), timeout=5)  # says nothing
        self.addCleanup(idle.close)
        time.sleep(0.2)
        code, seconds = self.server.stop(timeout=5)
        self.assertEqual(code, 0, self.server.output())
        self.assertLess(seconds, 2.0)


# ------------------------------------------------------------------------------------------
class IceServers(unittest.TestCase):
    """A server with STUN/TURN on UDP, TCP and TLS and a configured REST secret."""

    @classmethod
    def setUpClass(cls):
        cls.stun_port = free_port()
        cls.tls_port = free_port(socket.SOCK_STREAM)
        cls.server = Server(f'stun.listen=["udp:{LOOPBACK}:{cls.stun_port}",'
                            f'"tcp:{LOOPBACK}:{cls.stun_port}","tls:{LOOPBACK}:{cls.tls_port}"]',
                            f"turn.relay_address={LOOPBACK}", f"turn.auth_secret={SECRET}",
                            'turn.relay_ports="44000-44099"')
        make_certificate(cls.server.data_dir)
        cls.server.__enter__()
        cls.port = cls.server.http_port

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def urls(self, host):
        return [f"stun:{host}:{self.stun_port}", f"turn:{host}:{self.stun_port}?transport=udp",
                f"turn:{host}:{self.stun_port}?transport=tcp",
                f"turns:{host}:{self.tls_port}?transport=tcp"]

    def check_answer(self, answer, host, secret):
        self.assertEqual(list(answer), ["iceServers"], answer)
        self.assertIsInstance(answer["iceServers"], list)
        self.assertEqual(len(answer["iceServers"]), 1, answer)
        entry = answer["iceServers"][0]
        self.assertEqual(set(entry), {"urls", "username", "credential"}, entry)
        self.assertEqual(entry["urls"], self.urls(host))
        match = re.fullmatch(r"(\d+):(.+)", entry["username"])
        self.assertTrue(match, entry["username"])
        self.assertAlmostEqual(int(match.group(1)), time.time() + REST_LIFETIME, delta=60)
        self.assertEqual(entry["credential"], rest_password(secret, entry["username"]))
        return entry

    def test_shape_urls_and_credentials(self):
        headers, answer = ice_servers(self.port, f"turn.example.test:{self.port}")
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        headers)
        first = self.check_answer(answer, "turn.example.test", SECRET)
        # Each answer has a user name of its own.
        _, answer = ice_servers(self.port, f"turn.example.test:{self.port}")
        second = self.check_answer(answer, "turn.example.test", SECRET)
        self.assertNotEqual(first["username"], second["username"])

    def test_host_comes_from_the_host_header(self):
        for host_header, host in (("media.example.org", "media.example.org"),
                                  (f"{LOOPBACK}:{self.port}", LOOPBACK),
                                  (f"[::1]:{self.port}", "[::1]"),
                                  ("Media.Example.ORG:8080", None)):
            _, answer = ice_servers(self.port, host_header)
            urls = answer["iceServers"][0]["urls"]
            if host is None:  # a host name's case may be kept or lowered
                self.assertIn(urls, (self.urls("Media.Example.ORG"),
                                     self.urls("media.example.org")))
            else:
                self.assertEqual(urls, self.urls(host), host_header)

    def test_the_credential_works_for_a_turn_allocate(self):
        _, answer = ice_servers(self.port, f"{LOOPBACK}:{self.port}")
        entry = answer["iceServers"][0]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            client = TurnClient(sock, (LOOPBACK, self.stun_port), entry["username"],
                                entry["credential"])
            relayed = client.allocate()
            self.assertEqual(relayed[0], LOOPBACK)
            client.release()

    def test_cors_preflight(self):
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            conn.request("OPTIONS", "/api/ice-servers",
                         headers={"Origin": "http://pages.example",
                                  "Access-Control-Request-Method": "GET"})
            response = conn.getresponse()
            response.read()
            self.assertIn(response.status, (200, 204))
            self.assertEqual(response.getheader("Access-Control-Allow-Origin"), "*")
        finally:
            conn.close()

    def test_keep_alive_serves_two_gets_on_one_connection(self):
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            usernames = []
            first_socket = None
            for _ in range(2):
                conn.request("GET", "/api/ice-servers")
                response = conn.getresponse()
                body = response.read()
                self.assertEqual(response.status, 200, body)
                self.assertNotEqual((response.getheader("Connection") or "").lower(), "close")
                self.assertIsNotNone(conn.sock, "the server closed the connection")
                first_socket = first_socket or conn.sock
                self.assertIs(conn.sock, first_socket, "a second connection was opened")
                usernames.append(json.loads(body)["iceServers"][0]["username"])
            self.assertNotEqual(usernames[0], usernames[1])
        finally:
            conn.close()

    def test_unknown_path_is_404(self):
        for path in ("/no/such/path", "/api/ice-servers/x", "/api", "/quit"):
            status, headers, body = http_get(self.port, path)
            self.assertEqual(status, 404, f"{path}: {body!r}")
            self.assertEqual(headers.get("access-control-allow-origin"), "*", path)


class IceServersSettings(unittest.TestCase):
    def test_external_address_replaces_the_host(self):
        stun_port = free_port()
        with Server(f'stun.listen=["udp:{LOOPBACK}:{stun_port}"]',
                    f"turn.relay_address={LOOPBACK}", "turn.external_address=203.0.113.7",
                    f"turn.auth_secret={SECRET}", 'turn.relay_ports="44100-44199"') as server:
            _, answer = ice_servers(server.http_port, "pages.example.org")
        self.assertEqual(answer["iceServers"][0]["urls"],
                         [f"stun:203.0.113.7:{stun_port}",
                          f"turn:203.0.113.7:{stun_port}?transport=udp"])

    def test_generated_secret_and_tcp_only(self):
        stun_port = free_port()
        with Server(f'stun.listen=["tcp:{LOOPBACK}:{stun_port}","udp:{LOOPBACK}:{stun_port}"]',
                    f"turn.relay_address={LOOPBACK}",
                    'turn.relay_ports="44200-44299"') as server:
            _, answer = ice_servers(server.http_port, "h.example")
            with open(os.path.join(server.data_dir, "turn_secret")) as f:
                secret = f.read().strip()
            entry = answer["iceServers"][0]
            self.assertEqual(entry["urls"], [f"turn:h.example:{stun_port}?transport=tcp",
                                             f"stun:h.example:{stun_port}",
                                             f"turn:h.example:{stun_port}?transport=udp"])
            self.assertEqual(entry["credential"], rest_password(secret, entry["username"]))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((LOOPBACK, 0))
                client = TurnClient(sock, (LOOPBACK, stun_port), entry["username"],
                                    entry["credential"])
                client.allocate()
                client.release()


# ------------------------------------------------------------------------------------------
def parse_metrics(text):
    """({family: type}, {(name, frozenset of label pairs): value})."""
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?",
                             line.strip())
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                      match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return types, samples


class Metrics(ServerCase):
    def setUp(self):
        self.stun_port = free_port()
        self.settings = (f'stun.listen=["udp:{LOOPBACK}:{self.stun_port}"]',
                         f"turn.relay_address={LOOPBACK}", f"turn.auth_secret={SECRET}",
                         'turn.relay_ports="44300-44399"', 'turn.allowed_peers=["127.0.0.0/8"]')
        super().setUp()

    def metrics(self):
        status, headers, body = http_get(self.port, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        return parse_metrics(body.decode())

    def value(self, name, **labels):
        return self.metrics()[1].get((name, frozenset(labels.items())), 0.0)

    def wait_value(self, wanted, name, **labels):
        """Polls until the sample reads `wanted` (the services may report with a delay)."""
        deadline = time.monotonic() + 5
        while True:
            value = self.value(name, **labels)
            if value == wanted or time.monotonic() > deadline:
                self.assertEqual(value, wanted, f"{name}{labels}")
                return
            time.sleep(0.1)

    def test_families_and_types(self):
        types, samples = self.metrics()
        wanted = {"strowger_sip_requests_total": "counter",
                  "strowger_sip_responses_total": "counter",
                  "strowger_sip_transactions": "gauge", "strowger_sip_calls": "gauge",
                  "strowger_sip_bindings": "gauge", "strowger_turn_allocations": "gauge",
                  "strowger_turn_relayed_bytes_total": "counter",
                  "strowger_signaling_peers": "gauge", "strowger_malformed_total": "counter"}
        for name, kind in wanted.items():
            self.assertEqual(types.get(name), kind, f"# TYPE of {name}")
        names = {name for name, _ in samples}
        for name in ("strowger_sip_calls", "strowger_sip_bindings",
                     "strowger_turn_allocations"):
            self.assertIn(name, names)
        for name, label, values in (("strowger_sip_transactions", "kind", ("server", "client")),
                                    ("strowger_turn_relayed_bytes_total", "direction",
                                     ("to_peer", "to_client")),
                                    ("strowger_signaling_peers", "protocol",
                                     ("longpoll", "websocket"))):
            for v in values:
                self.assertIn((name, frozenset({(label, v)})), samples, f'{name}{{{label}="{v}"}}')
        # Every sample belongs to a family with a # TYPE line.
        for name in names:
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            self.assertTrue(name in types or family in types, f"{name} has no # TYPE")
        self.assertEqual(self.value("strowger_signaling_peers", protocol="longpoll"), 0)
        self.assertEqual(self.value("strowger_signaling_peers", protocol="websocket"), 0)
        self.assertEqual(self.value("strowger_turn_allocations"), 0)

    def test_cors_header(self):
        status, headers, _ = http_get(self.port, "/metrics")
        self.assertEqual(headers.get("access-control-allow-origin"), "*")

    def test_sip_counters_move(self):
        before = self.value("strowger_sip_requests_total", method="OPTIONS")
        self.assertEqual(sip_options(self.server.sip_port, "metrics-options-1"), 200)
        self.wait_value(before + 1, "strowger_sip_requests_total", method="OPTIONS")
        self.assertEqual(sip_options(self.server.sip_port, "metrics-options-2"), 200)
        self.wait_value(before + 2, "strowger_sip_requests_total", method="OPTIONS")

    def test_signaling_gauges(self):
        with socket.create_connection((LOOPBACK, self.port), timeout=5) as s:
            s.sendall(b"GET /sign_in?metrics HTTP/1.0\r\n\r\n")
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 Added\r\n"), answer)
        peer_id = int(re.search(rb"\r\nPragma: (\d+)\r\n", answer).group(1))
        ws, _ = self.ws("metrics")
        self.wait_value(1, "strowger_signaling_peers", protocol="longpoll")
        self.wait_value(1, "strowger_signaling_peers", protocol="websocket")
        ws.close()
        self.wait_value(0, "strowger_signaling_peers", protocol="websocket")
        with socket.create_connection((LOOPBACK, self.port), timeout=5) as s:
            s.sendall(f"GET /sign_out?peer_id={peer_id} HTTP/1.0\r\n\r\n".encode())
            while s.recv(4096):
                pass
        self.wait_value(0, "strowger_signaling_peers", protocol="longpoll")

    def test_turn_gauge_and_relayed_bytes(self):
        to_peer = self.value("strowger_turn_relayed_bytes_total", direction="to_peer")
        to_client = self.value("strowger_turn_relayed_bytes_total", direction="to_client")
        _, answer = ice_servers(self.port, LOOPBACK)
        entry = answer["iceServers"][0]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            sock.bind((LOOPBACK, 0))
            peer.bind((LOOPBACK, 0))
            peer.settimeout(3)
            client = TurnClient(sock, (LOOPBACK, self.stun_port), entry["username"],
                                entry["credential"])
            relayed = client.allocate()
            self.wait_value(1, "strowger_turn_allocations")
            client.create_permission(peer.getsockname())
            client.send(peer.getsockname(), b"p" * 100)
            data, source = peer.recvfrom(2048)
            self.assertEqual(data, b"p" * 100)
            self.assertEqual(source, relayed)
            peer.sendto(b"c" * 50, relayed)
            arrival = client.receive(3)
            self.assertIsNotNone(arrival, "nothing relayed back to the client")
            self.assertEqual(arrival[2], b"c" * 50)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                moved = (self.value("strowger_turn_relayed_bytes_total", direction="to_peer")
                         - to_peer,
                         self.value("strowger_turn_relayed_bytes_total", direction="to_client")
                         - to_client)
                if moved[0] >= 100 and moved[1] >= 50:
                    break
                time.sleep(0.1)
            self.assertGreaterEqual(moved[0], 100, "to_peer bytes")
            self.assertGreaterEqual(moved[1], 50, "to_client bytes")
            client.release()
            self.wait_value(0, "strowger_turn_allocations")


# ------------------------------------------------------------------------------------------
class CertificateCommand(unittest.TestCase):
    def setUp(self):
        harness.require_tool("openssl")
        self.data_dir = tempfile.mkdtemp(prefix="strowger-it-cert-")
        self.addCleanup(shutil.rmtree, self.data_dir, ignore_errors=True)
        self.cert = os.path.join(self.data_dir, "cert.pem")
        self.key = os.path.join(self.data_dir, "key.pem")

    def cert_command(self, *extra):
        return subprocess.run([BINARY, "cert", "--set", f"general.data_dir={self.data_dir}",
                               *extra], capture_output=True, text=True, timeout=60)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_writes_a_certificate_and_key_and_never_overwrites_silently(self):
        out = self.cert_command()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)
        parsed = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-subject",
                                 "-dates"], capture_output=True, text=True)
        self.assertEqual(parsed.returncode, 0, parsed.stderr)
        self.assertRegex(parsed.stdout, r"(?m)^subject=")
        self.assertRegex(parsed.stdout, r"(?m)^notBefore=")
        self.assertRegex(parsed.stdout, r"(?m)^notAfter=")
        # The key belongs to the certificate.
        cert_key = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"],
                                  capture_output=True, text=True, check=True).stdout
        key_pub = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout"],
                                 capture_output=True, text=True, check=True).stdout
        self.assertEqual(cert_key, key_pub)

        cert, key = self.read(self.cert), self.read(self.key)
        again = self.cert_command()
        self.assertNotEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("--force", again.stdout + again.stderr)
        self.assertEqual((self.read(self.cert), self.read(self.key)), (cert, key))

        forced = self.cert_command("--force")
        self.assertEqual(forced.returncode, 0, forced.stdout + forced.stderr)
        self.assertNotEqual(self.read(self.cert), cert)
        self.assertNotEqual(self.read(self.key), key)
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)

    def test_https_with_the_generated_certificate(self):
        out = self.cert_command()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        port = free_port(socket.SOCK_STREAM)
        with Server(f'http.listen=["tls:{LOOPBACK}:{port}"]', data_dir=self.data_dir):
            status, headers, body = http_get(port, "/api/ice-servers", f"{LOOPBACK}:{port}",
                                             tls=True)
            self.assertEqual(status, 200, body)
            self.assertEqual(list(json.loads(body)), ["iceServers"])
            # The certificate served is the one written.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with socket.create_connection((LOOPBACK, port), timeout=5) as raw, \
                    context.wrap_socket(raw) as tls:
                served = tls.getpeercert(binary_form=True)
            with open(self.cert) as f:
                pem = f.read()
            first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
            self.assertEqual(served, ssl.PEM_cert_to_DER_cert(first))
            # WebSocket signaling over the same TLS listener (wss://).
            ws = WebSocket.connect(LOOPBACK, port, "/ws", tls=True)
            try:
                ws.send_json({"type": "hello", "name": "secure"})
                welcome = ws.recv_json()
                self.assertEqual(welcome["type"], "welcome", welcome)
                self.assertEqual(welcome["name"], "secure")
            finally:
                ws.close()

    def test_https_without_a_certificate_makes_a_self_signed_one(self):
        # With neither tls.cert_file nor a certificate in the data directory, the server
        # makes one there (as `strowger cert` would) and serves it.
        port = free_port(socket.SOCK_STREAM)
        self.assertFalse(os.path.exists(self.cert))
        with Server(f'http.listen=["tls:{LOOPBACK}:{port}"]', data_dir=self.data_dir) as server:
            self.assertIn("made a self-signed certificate", server.output())
            self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)
            context = ssl.create_default_context(cafile=self.cert)
            with socket.create_connection((LOOPBACK, port), timeout=5) as raw, \
                    context.wrap_socket(raw, server_hostname=LOOPBACK) as tls:
                served = tls.getpeercert(binary_form=True)
            with open(self.cert) as f:
                self.assertEqual(served, ssl.PEM_cert_to_DER_cert(f.read()))
        # A second start keeps it.
        with open(self.cert) as f:
            first = f.read()
        with Server(f'http.listen=["tls:{LOOPBACK}:{port}"]', data_dir=self.data_dir) as server:
            self.assertNotIn("made a self-signed certificate", server.output())
        with open(self.cert) as f:
            self.assertEqual(f.read(), first)

    def test_unreadable_certificate_refuses_to_start(self):
        port = free_port(socket.SOCK_STREAM)
        bogus = os.path.join(self.data_dir, "bogus.pem")
        with open(bogus, "w") as f:
            f.write("not a certificate\n")
        with Server(f'http.listen=["tls:{LOOPBACK}:{port}"]', f"tls.cert_file={bogus}",
                    f"tls.key_file={bogus}", data_dir=self.data_dir,
                    expect_start=False) as server:
            try:
                code = server.wait_exit(15)
            except subprocess.TimeoutExpired:
                self.fail(f"the server started with a bogus certificate:\n{server.output()}")
            self.assertNotEqual(code, 0)
            self.assertIn("tls.cert_file", server.output())

if __name__ == "__main__":
    run_tests()
