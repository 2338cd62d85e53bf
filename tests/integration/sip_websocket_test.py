#!/usr/bin/env python3
"""SIP over WebSocket (RFC 7118) through the real server, played by Python UAs that write
what SIP.js and JsSIP write (protocols.md §4): a `*.invalid` Via host, an unroutable
`;transport=ws` Contact with +sip.instance and reg-id, CRLF keep-alives.

At /sip of an http.listen listener (ws:// and wss://) and on ws:/wss: entries of sip.listen
(any path): the subprotocol "sip" is required (400 without it) and echoed; REGISTER gets a 200
listing the client's own binding; a browser calls a UDP phone and a UDP phone calls the
browser, with responses reaching the browser carrying exactly one Via, two Record-Route values
for the two transports, and requests in the dialog coming back over the browser's connection;
a closed connection removes its bindings; oversized messages (1009), unmasked frames (1002)
and text that is not SIP close or are dropped without disturbing other connections; digest
works as over any transport.
"""

import hashlib
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request
import uuid

from harness import BINARY, Server, free_port, run_tests
from ws_client import BINARY as WS_BINARY, CLOSE, PING, PONG, TEXT, Closed, WebSocket, \
    WebSocketError, frame

REALM = "example.test"


def parse(data):
    """(first line, {lowercase name: [values]}, body) of one SIP message."""
    text = data.decode() if isinstance(data, bytes) else data
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers.setdefault(compact.get(name, name), []).append(value.strip())
    return lines[0], headers, body


def status_of(first_line):
    m = re.match(r"SIP/2\.0 (\d{3})", first_line)
    return int(m.group(1)) if m else None


def via_values(headers):
    return [v.strip() for line in headers.get("via", []) for v in line.split(",")]


def rr_values(headers):
    return [v.strip() for line in headers.get("record-route", []) for v in line.split(",")]


class WsUa:
    """A browser-like SIP UA over one WebSocket connection."""

    def __init__(self, user, port, path="/sip", tls=False, protocols=("sip",)):
        self.user = user
        self.ws = WebSocket.connect("127.0.0.1", port, path, tls=tls, protocols=protocols)
        self.host = f"{uuid.uuid4().hex[:12]}.invalid"
        self.transport = "WSS" if tls else "WS"
        self.contact_user = uuid.uuid4().hex[:8]
        self.instance = f"<urn:uuid:{uuid.uuid4()}>"
        self.contact = f"sip:{self.contact_user}@{self.host};transport=ws"
        self.call_id = f"{uuid.uuid4().hex}"
        self.cseq = 0
        self.pending = []  # messages read while waiting for something else

    def close(self):
        self.ws.close()

    def via(self):
        return f"SIP/2.0/{self.transport} {self.host};branch=z9hG4bK{uuid.uuid4().hex[:16]}"

    def send(self, text):
        self.ws.send_text(re.sub(r"(?<!\r)\n", "\r\n", text))

    def recv(self, timeout=5.0, want=None):
        """The next SIP message (first line, headers, body), or the next one for which
        want(first_line, headers) holds (others are kept for later)."""
        for i, m in enumerate(self.pending):
            if want is None or want(m[0], m[1]):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            kind, payload = self.ws.recv(max(0.01, deadline - time.monotonic()))
            message = parse(payload)
            if want is None or want(message[0], message[1]):
                return message
            self.pending.append(message)

    def response(self, method, timeout=5.0):
        return self.recv(timeout, lambda first, h: status_of(first) and
                         h.get("cseq", [""])[0].endswith(method))

    def register(self, expires=600, authorization=None):
        self.cseq += 1
        auth = f"Authorization: {authorization}\n" if authorization else ""
        self.send(f"REGISTER sip:{REALM} SIP/2.0\n"
                  f"Via: {self.via()}\n"
                  "Max-Forwards: 69\n"
                  f"To: <sip:{self.user}@{REALM}>\n"
                  f"From: <sip:{self.user}@{REALM}>;tag={uuid.uuid4().hex[:10]}\n"
                  f"Call-ID: {self.call_id}\n"
                  f"CSeq: {self.cseq} REGISTER\n"
                  f"Contact: <{self.contact}>;+sip.ice;reg-id=1;+sip.instance=\"{self.instance}\";expires={expires}\n"
                  f"Expires: {expires}\n"
                  "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\n"
                  "Supported: path,gruu,outbound\n"
                  f"{auth}"
                  "User-Agent: JsSIP-like test UA\n"
                  "Content-Length: 0\n\n")
        return self.response("REGISTER")


class UdpUa:
    """A plain UDP phone."""

    def __init__(self, user, server_port):
        self.user = user
        self.server = ("127.0.0.1", server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.contact = f"sip:{user}@127.0.0.1:{self.port}"

    def close(self):
        self.sock.close()

    def send(self, text, to=None):
        """Sends `text` with its bare LFs made CRLF (a text that has CRLFs already is kept)."""
        self.sock.sendto(re.sub(r"(?<!\r)\n", "\r\n", text).encode(), to or self.server)

    def recv(self, want=None):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data, source = self.sock.recvfrom(65535)
            message = parse(data)
            if want is None or want(message[0], message[1]):
                return message, source
        raise AssertionError("nothing wanted arrived")

    def register(self):
        self.send(f"REGISTER sip:{REALM} SIP/2.0\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\n"
                  "Max-Forwards: 70\n"
                  f"From: <sip:{self.user}@{REALM}>;tag=r1\nTo: <sip:{self.user}@{REALM}>\n"
                  f"Call-ID: reg-{uuid.uuid4().hex}\nCSeq: 1 REGISTER\n"
                  f"Contact: <{self.contact}>\nExpires: 300\nContent-Length: 0\n\n")
        first, headers = self.recv()[0][:2]
        return status_of(first)

    def reply(self, request_headers, status, reason, to_tag, to, extra=""):
        h = request_headers
        vias = "".join(f"Via: {v}\n" for v in h["via"])
        rr = "".join(f"Record-Route: {v}\n" for v in h.get("record-route", []))
        self.send(f"SIP/2.0 {status} {reason}\n{vias}{rr}"
                  f"From: {h['from'][0]}\nTo: {h['to'][0]};tag={to_tag}\n"
                  f"Call-ID: {h['call-id'][0]}\nCSeq: {h['cseq'][0]}\n"
                  f"Contact: <{self.contact}>\n{extra}Content-Length: 0\n\n", to)


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


class SipWebSocket(unittest.TestCase):
    def start(self, *settings, users=None):
        self.data_dir = tempfile.mkdtemp(prefix="strowger-ws-")
        self.addCleanup(shutil.rmtree, self.data_dir, ignore_errors=True)
        for name, password in (users or {}).items():
            subprocess.run([BINARY, "user", "add", name, password, "--set",
                            f"general.data_dir={self.data_dir}", "--set", f"general.realm={REALM}"],
                           check=True, capture_output=True)
        self.server = Server(f"general.realm={REALM}", *settings, data_dir=self.data_dir)
        self.addCleanup(self.server.__exit__, None, None, None)
        self.server.__enter__()
        return self.server

    def ws(self, user, port=None, **options):
        ua = WsUa(user, port or self.server.http_port, **options)
        self.addCleanup(ua.close)
        return ua

    def udp(self, user):
        ua = UdpUa(user, self.server.sip_port)
        self.addCleanup(ua.close)
        return ua

    # Handshake and registration

    def test_register_at_sip_path_lists_the_clients_own_binding(self):
        self.start()
        alice = self.ws("alice")
        self.assertRegex(alice.ws.response_head, r"(?im)^Sec-WebSocket-Protocol: sip$")
        first, headers, _ = alice.register()
        self.assertEqual(status_of(first), 200, first)
        self.assertEqual(len(via_values(headers)), 1, headers["via"])
        via = via_values(headers)[0]
        self.assertTrue(via.startswith(f"SIP/2.0/WS {alice.host};"), via)  # sent-by untouched
        self.assertIn("received=127.0.0.1", via)
        contacts = [c for line in headers["contact"] for c in [line]]
        mine = [c for c in contacts if alice.contact in c]
        self.assertEqual(len(mine), 1, contacts)
        self.assertIn(f'+sip.instance="{alice.instance}"', mine[0])
        self.assertIn("reg-id=1", mine[0])
        self.assertRegex(mine[0], r";expires=(599|600)")

    def test_upgrade_without_the_sip_subprotocol_is_refused_with_400(self):
        self.start()
        for protocols in ((), ("chat",)):
            with self.assertRaises(WebSocketError) as refused:
                WebSocket.connect("127.0.0.1", self.server.http_port, "/sip", protocols=protocols)
            self.assertIn("HTTP/1.1 400", str(refused.exception))
        # The answer says why.
        with socket.create_connection(("127.0.0.1", self.server.http_port), timeout=5) as s:
            s.sendall(b"GET /sip HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\n\r\n")
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        self.assertIn(b'needs the subprotocol "sip"', answer)
        # /ws still serves the signaling room, without the subprotocol.
        ws = WebSocket.connect("127.0.0.1", self.server.http_port, "/ws")
        ws.close()

    def test_sip_listen_ws_and_wss_entries_take_any_path(self):
        ws_port = free_port(socket.SOCK_STREAM)
        wss_port = free_port(socket.SOCK_STREAM)
        sip = free_port()
        self.start(f'sip.listen=["udp:127.0.0.1:{sip}", "ws:127.0.0.1:{ws_port}", '
                   f'"wss:127.0.0.1:{wss_port}"]')
        for port, tls in ((ws_port, False), (wss_port, True)):
            ua = self.ws("alice", port, path="/any/path?x=1", tls=tls)
            first, headers, _ = ua.register()
            self.assertEqual(status_of(first), 200, first)
            self.assertTrue(via_values(headers)[0].startswith("SIP/2.0/WSS" if tls else "SIP/2.0/WS "))
            ua.close()
        # A plain HTTP request there is not served.
        with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))

    def test_wss_at_sip_path_of_an_https_listener(self):
        http_tls = free_port(socket.SOCK_STREAM)
        self.start(f'http.listen=["tls:127.0.0.1:{http_tls}"]')
        alice = self.ws("alice", http_tls, tls=True)
        first, headers, _ = alice.register()
        self.assertEqual(status_of(first), 200, first)
        self.assertTrue(via_values(headers)[0].startswith("SIP/2.0/WSS "))

    # Keep-alives and bad input

    def test_crlf_ping_gets_a_crlf_pong_and_websocket_pings_get_pongs(self):
        self.start()
        alice = self.ws("alice")
        alice.ws.send_text("\r\n\r\n")
        kind, payload = alice.ws.recv()
        self.assertEqual(payload, b"\r\n")
        alice.ws.send_text("\r\n")  # a pong from the client: nothing comes back
        alice.ws.send_frame(PING, b"are you there")
        fin, opcode, payload = alice.ws._frame(time.monotonic() + 5)
        self.assertEqual((opcode, payload), (PONG, b"are you there"))
        self.assertEqual(status_of(alice.register()[0]), 200)

    def test_oversized_message_closes_with_1009_and_nothing_else(self):
        self.start("sip.max_message_bytes=4096")
        alice = self.ws("alice")
        bob = self.ws("bob")
        alice.ws.send_text("OPTIONS sip:x SIP/2.0\r\n" + "X: " + "a" * 5000 + "\r\n\r\n")
        code, _, _ = alice.ws.wait_closed()
        self.assertEqual(code, 1009)
        self.assertEqual(status_of(bob.register()[0]), 200)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.server.http_port}/metrics") as r:
            metrics = r.read().decode()
        self.assertIn('strowger_malformed_total{service="sip_websocket"} 1\n', metrics)
        self.assertIn("strowger_sip_websocket_connections 1\n", metrics)

    def test_unmasked_frame_closes_with_1002(self):
        self.start()
        alice = self.ws("alice")
        alice.ws.send_raw(frame(TEXT, b"OPTIONS sip:x SIP/2.0\r\n\r\n", mask=False))
        code, _, _ = alice.ws.wait_closed()
        self.assertEqual(code, 1002)

    def test_text_that_is_not_sip_is_dropped_and_the_connection_stays_usable(self):
        self.start()
        alice = self.ws("alice")
        alice.ws.send_text("hello, is this the SIP server? " * 4)
        alice.ws.send_frame(WS_BINARY, os.urandom(300))
        first, _, _ = alice.register()  # the same connection still works
        self.assertEqual(status_of(first), 200)
        # A request readable enough to answer gets 400 with the reason.
        alice.send(f"OPTIONS sip:{REALM} SIP/2.0\nVia: {alice.via()}\nFrom: <sip:a@{REALM}>;tag=1\n"
                   f"To: <sip:{REALM}>\nCall-ID: x\nCSeq: nonsense\nMax-Forwards: 70\n"
                   "Content-Length: 0\n\n")
        first, _, _ = alice.recv()
        self.assertRegex(first, r"^SIP/2\.0 400 ")

    # Calls across transports

    def invite_text(self, caller, callee_user, branch_via):
        body = SDP
        return (f"INVITE sip:{callee_user}@{REALM} SIP/2.0\n"
                f"Via: {branch_via}\nMax-Forwards: 69\n"
                f"To: <sip:{callee_user}@{REALM}>\n"
                f"From: <sip:{caller.user}@{REALM}>;tag=from{caller.user}\n"
                f"Call-ID: call-{caller.call_id}\nCSeq: 1 INVITE\n"
                f"Contact: <{caller.contact};ob>\n"
                "Supported: ice,replaces,outbound\n"
                f"Content-Type: application/sdp\nContent-Length: {len(body)}\n\n").replace("\n", "\r\n") + body

    def test_browser_calls_udp_phone_and_the_phone_hangs_up(self):
        self.start()
        alice = self.ws("alice")
        bob = self.udp("bob")
        self.assertEqual(status_of(alice.register()[0]), 200)
        self.assertEqual(bob.register(), 200)
        alice.ws.send_text(self.invite_text(alice, "bob", alice.via()))
        (first, invite, _), source = bob.recv(lambda f, h: f.startswith("INVITE"))
        rr = rr_values(invite)
        self.assertEqual(len(rr), 2, rr)  # one for each side (RFC 5658)
        self.assertIn(";transport=ws", rr[1])
        self.assertNotIn("transport=", rr[0])
        bob.reply(invite, 180, "Ringing", "bobtag", source)
        bob.reply(invite, 200, "OK", "bobtag", source)
        first, ringing, _ = alice.recv(want=lambda f, h: status_of(f) == 180)
        self.assertEqual(len(via_values(ringing)), 1)
        first, ok, _ = alice.recv(want=lambda f, h: status_of(f) == 200)
        self.assertEqual(len(via_values(ok)), 1, ok["via"])
        route = rr_values(ok)
        self.assertEqual(len(route), 2)
        # ACK from the browser with the route set reversed (UAC), over its connection.
        routes = "".join(f"Route: {r}\n" for r in reversed(route))
        alice.send(f"ACK {bob.contact} SIP/2.0\nVia: {alice.via()}\nMax-Forwards: 69\n{routes}"
                   f"To: {ok['to'][0]}\nFrom: {ok['from'][0]}\nCall-ID: {ok['call-id'][0]}\n"
                   "CSeq: 1 ACK\nContent-Length: 0\n\n")
        (first, ack, _), _ = bob.recv(lambda f, h: f.startswith("ACK"))
        # The phone hangs up: its BYE follows the Record-Route (UAS order) and must reach the
        # browser over its WebSocket, at its .invalid Contact.
        bob_routes = "".join(f"Route: {r}\n" for r in rr)
        bob.send(f"BYE {alice.contact} SIP/2.0\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{bob.port};branch=z9hG4bKbye{uuid.uuid4().hex[:8]};rport\n"
                 f"Max-Forwards: 70\n{bob_routes}From: {invite['to'][0]};tag=bobtag\n"
                 f"To: {invite['from'][0]}\nCall-ID: {invite['call-id'][0]}\nCSeq: 1 BYE\n"
                 "Content-Length: 0\n\n")
        first, bye, _ = alice.recv(want=lambda f, h: f.startswith("BYE"))
        self.assertEqual(first, f"BYE {alice.contact} SIP/2.0")
        vias = "".join(f"Via: {v}\n" for v in bye["via"])
        alice.send(f"SIP/2.0 200 OK\n{vias}From: {bye['from'][0]}\nTo: {bye['to'][0]}\n"
                   f"Call-ID: {bye['call-id'][0]}\nCSeq: {bye['cseq'][0]}\nContent-Length: 0\n\n")
        (first, bye_ok, _), _ = bob.recv(lambda f, h: status_of(f) == 200 and "BYE" in h["cseq"][0])
        self.assertEqual(len(via_values(bye_ok)), 1)

    def test_udp_phone_calls_browser_over_its_connection(self):
        self.start()
        alice = self.ws("alice")
        bob = self.udp("bob")
        self.assertEqual(status_of(alice.register()[0]), 200)
        bob.send(f"INVITE sip:alice@{REALM} SIP/2.0\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{bob.port};branch=z9hG4bKinv{uuid.uuid4().hex[:8]};rport\n"
                 f"Max-Forwards: 70\nFrom: <sip:bob@{REALM}>;tag=b1\nTo: <sip:alice@{REALM}>\n"
                 f"Call-ID: in-{uuid.uuid4().hex}\nCSeq: 1 INVITE\nContact: <{bob.contact}>\n"
                 f"Content-Type: application/sdp\nContent-Length: {len(SDP)}\n\n"
                 .replace("\n", "\r\n") + SDP)
        first, invite, body = alice.recv(want=lambda f, h: f.startswith("INVITE"))
        # Retargeted to the registered Contact, scheme sip (browser clients refuse sips).
        self.assertEqual(first, f"INVITE {alice.contact} SIP/2.0")
        self.assertEqual(body, SDP)
        self.assertTrue(via_values(invite)[0].startswith("SIP/2.0/WS "), invite["via"])
        rr = rr_values(invite)
        self.assertEqual(len(rr), 2)
        self.assertIn(";transport=ws", rr[0])  # the top one faces the browser
        vias = "".join(f"Via: {v}\n" for v in invite["via"])
        rrs = "".join(f"Record-Route: {v}\n" for v in invite["record-route"])
        alice.send(f"SIP/2.0 200 OK\n{vias}{rrs}From: {invite['from'][0]}\n"
                   f"To: {invite['to'][0]};tag=alicetag\nCall-ID: {invite['call-id'][0]}\n"
                   f"CSeq: 1 INVITE\nContact: <{alice.contact}>\nContent-Length: 0\n\n")
        (first, ok, _), _ = bob.recv(lambda f, h: status_of(f) == 200)
        self.assertEqual(len(via_values(ok)), 1)

    def test_closed_connection_removes_its_bindings(self):
        self.start("sip.auth=off", users={"alice": "alicepw"})
        alice = self.ws("alice")
        self.assertEqual(status_of(alice.register()[0]), 200)
        bob = self.udp("bob")
        alice.close()
        time.sleep(0.3)
        bob.send(f"INVITE sip:alice@{REALM} SIP/2.0\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{bob.port};branch=z9hG4bKgone{uuid.uuid4().hex[:8]};rport\n"
                 f"Max-Forwards: 70\nFrom: <sip:bob@{REALM}>;tag=b1\nTo: <sip:alice@{REALM}>\n"
                 f"Call-ID: gone-{uuid.uuid4().hex}\nCSeq: 1 INVITE\nContact: <{bob.contact}>\n"
                 "Content-Length: 0\n\n")
        (first, _, _), _ = bob.recv(lambda f, h: status_of(f) and status_of(f) >= 200)
        self.assertEqual(status_of(first), 480, "alice is an account without a live binding")

    # Digest over WebSocket

    def test_digest_register_over_websocket(self):
        self.start(users={"alice": "alicepw"})
        alice = self.ws("alice")
        first, headers, _ = alice.register()
        self.assertEqual(status_of(first), 401)
        challenge = headers["www-authenticate"][-1]
        self.assertIn("algorithm=MD5", challenge)  # last: SIP.js and JsSIP keep only the last
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
        uri = f"sip:{REALM}"
        response = md5(f"{md5(f'alice:{REALM}:alicepw')}:{nonce}:00000001:abc:auth:{md5(f'REGISTER:{uri}')}")
        first, _, _ = alice.register(authorization=(
            f'Digest algorithm=MD5, username="alice", realm="{REALM}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", qop=auth, cnonce="abc", nc=00000001'))
        self.assertEqual(status_of(first), 200)


if __name__ == "__main__":
    run_tests()
