#!/usr/bin/env python3
"""A call between every pair of transports through the real server: UDP, TCP, TLS, WS and WSS
phones (Python UAs; the WebSocket ones write what browsers write: a *.invalid Via host and an
unroutable ;transport=ws Contact) register, and each calls each: INVITE, 200, ACK and BYE
along the recorded route, from the caller's side and back.

Every message must reach its UA over that UA's own flow (the connection it registered on, for
the stream transports), every response must carry exactly one Via, and the route set must have
two Record-Route values, one facing each side (RFC 5658).
"""

import os
import re
import shutil
import socket
import ssl
import tempfile
import time
import unittest
import uuid

from harness import Server, free_port, run_tests
from ws_client import WebSocket

DOMAIN = "example.test"
TRANSPORTS = ["udp", "tcp", "tls", "ws", "wss"]


def parse(text):
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact"}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers.setdefault(compact.get(name, name), []).append(value.strip())
    return lines[0], headers


def values(headers, name):
    return [v.strip() for line in headers.get(name, []) for v in line.split(",")]


class Ua:
    """One phone on one transport."""

    def __init__(self, user, transport, ports):
        self.user, self.transport = user, transport
        self.buffer = b""
        self.ws = None
        self.sock = None
        port = ports[transport]
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.server = ("127.0.0.1", port)
        elif transport in ("tcp", "tls"):
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            if transport == "tls":
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                raw = context.wrap_socket(raw, server_hostname="127.0.0.1")
            self.sock = raw
        else:
            self.ws = WebSocket.connect("127.0.0.1", port, "/", tls=transport == "wss",
                                        protocols=("sip",))
        if self.sock is not None:
            self.sock.settimeout(5)
            host, local_port = self.sock.getsockname()[:2]
            self.sent_by = f"{host}:{local_port}"
            self.contact = f"sip:{user}@{self.sent_by};transport={transport}"
        else:
            self.sent_by = f"{uuid.uuid4().hex[:10]}.invalid"
            self.contact = f"sip:{uuid.uuid4().hex[:8]}@{self.sent_by};transport=ws"
        self.via_transport = transport.upper()

    def close(self):
        if self.ws:
            self.ws.close()
        if self.sock:
            self.sock.close()

    def via(self):
        return f"SIP/2.0/{self.via_transport} {self.sent_by};branch=z9hG4bK{uuid.uuid4().hex[:14]};rport"

    def send(self, text):
        data = re.sub(r"(?<!\r)\n", "\r\n", text)
        if self.ws:
            self.ws.send_text(data)
        elif self.transport == "udp":
            self.sock.sendto(data.encode(), self.server)
        else:
            self.sock.sendall(data.encode())

    def recv(self):
        if self.ws:
            return self.ws.recv()[1].decode()
        if self.transport == "udp":
            return self.sock.recvfrom(65535)[0].decode()
        while True:  # stream: headers, then Content-Length bytes (CRLF pongs skipped)
            self.buffer = self.buffer.lstrip(b"\r\n")
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", self.buffer[:end])
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buffer) >= total:
                    message, self.buffer = self.buffer[:total], self.buffer[total:]
                    return message.decode()
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"{self.user}: connection closed")
            self.buffer += chunk

    def expect(self, want, what):
        """The next message for which want(first line, headers) holds (others are dropped:
        provisional responses)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            first, headers = parse(self.recv())
            if want(first, headers):
                return first, headers
        raise AssertionError(f"{self.user} ({self.transport}) never got {what}")

    def register(self):
        self.send(f"REGISTER sip:{DOMAIN} SIP/2.0\nVia: {self.via()}\nMax-Forwards: 70\n"
                  f"From: <sip:{self.user}@{DOMAIN}>;tag=r\nTo: <sip:{self.user}@{DOMAIN}>\n"
                  f"Call-ID: reg-{uuid.uuid4().hex}\nCSeq: 1 REGISTER\n"
                  f"Contact: <{self.contact}>\nExpires: 600\nContent-Length: 0\n\n")
        first, _ = self.expect(lambda f, h: f.startswith("SIP/2.0 "), "a REGISTER answer")
        assert first.startswith("SIP/2.0 200"), first

    def respond(self, headers, status, reason, to_tag):
        vias = "".join(f"Via: {v}\n" for v in values(headers, "via"))
        rr = "".join(f"Record-Route: {v}\n" for v in headers.get("record-route", []))
        self.send(f"SIP/2.0 {status} {reason}\n{vias}{rr}From: {headers['from'][0]}\n"
                  f"To: {headers['to'][0]}{to_tag}\nCall-ID: {headers['call-id'][0]}\n"
                  f"CSeq: {headers['cseq'][0]}\nContact: <{self.contact}>\nContent-Length: 0\n\n")


class Transports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="strowger-transports-")
        cls.ports = {"udp": free_port()}
        cls.ports["tcp"] = cls.ports["udp"]
        for t in ("tls", "ws", "wss"):
            cls.ports[t] = free_port(socket.SOCK_STREAM)
        listen = ", ".join(f'"{t}:127.0.0.1:{cls.ports[t]}"' for t in TRANSPORTS)
        cls.server = Server(f"sip.listen=[{listen}]", f'sip.domains=["{DOMAIN}"]',
                            data_dir=cls.data_dir)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def call(self, caller_transport, callee_transport):
        tag = uuid.uuid4().hex[:6]
        caller = Ua(f"a{tag}", caller_transport, self.ports)
        callee = Ua(f"b{tag}", callee_transport, self.ports)
        self.addCleanup(caller.close)
        self.addCleanup(callee.close)
        callee.register()
        caller.send(f"INVITE sip:{callee.user}@{DOMAIN} SIP/2.0\nVia: {caller.via()}\n"
                    f"Max-Forwards: 70\nFrom: <sip:{caller.user}@{DOMAIN}>;tag=c\n"
                    f"To: <sip:{callee.user}@{DOMAIN}>\nCall-ID: call-{tag}\nCSeq: 1 INVITE\n"
                    f"Contact: <{caller.contact}>\nContent-Length: 0\n\n")
        first, invite = callee.expect(lambda f, h: f.startswith("INVITE "), "the INVITE")
        self.assertEqual(first, f"INVITE {callee.contact} SIP/2.0")
        route = values(invite, "record-route")
        self.assertEqual(len(route), 2, route)
        callee.respond(invite, 200, "OK", ";tag=callee")
        first, ok = caller.expect(lambda f, h: f.startswith("SIP/2.0 200"), "the 200")
        self.assertEqual(len(values(ok, "via")), 1, ok["via"])
        # ACK and BYE from the caller along the route set, reversed (UAC).
        routes = "".join(f"Route: {r}\n" for r in reversed(values(ok, "record-route")))
        for method, cseq in (("ACK", 1), ("BYE", 2)):
            caller.send(f"{method} {callee.contact} SIP/2.0\nVia: {caller.via()}\n"
                        f"Max-Forwards: 70\n{routes}From: {ok['from'][0]}\nTo: {ok['to'][0]}\n"
                        f"Call-ID: call-{tag}\nCSeq: {cseq} {method}\nContent-Length: 0\n\n")
            first, request = callee.expect(lambda f, h, m=method: f.startswith(m + " "), method)
            self.assertEqual(first, f"{method} {callee.contact} SIP/2.0")
        callee.respond(request, 200, "OK", "")
        first, bye_ok = caller.expect(lambda f, h: f.startswith("SIP/2.0 200")
                                      and "BYE" in h["cseq"][0], "the BYE's 200")
        self.assertEqual(len(values(bye_ok, "via")), 1)


def add_pair(caller, callee):
    def test(self):
        self.call(caller, callee)
    test.__name__ = f"test_{caller}_calls_{callee}"
    setattr(Transports, test.__name__, test)


for a in TRANSPORTS:
    for b in TRANSPORTS:
        add_pair(a, b)


if __name__ == "__main__":
    run_tests()
