"""A minimal WebSocket (RFC 6455) client for the integration tests: stdlib only.

The opening handshake (with Sec-WebSocket-Accept checked), masked client frames, text and
binary messages, fragmented server messages, ping/pong, and the close handshake with its
status code and reason.
"""

import base64
import hashlib
import json
import os
import select
import socket
import ssl
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketError(AssertionError):
    """The handshake failed, the server broke the framing rules, or nothing came in time."""


class Closed(Exception):
    """The server closed the WebSocket: `code` (None without one) and `reason`."""

    def __init__(self, code, reason):
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


def frame(opcode, payload, fin=True, mask=True, rsv=0):
    """One frame as a client sends it (masked unless told otherwise)."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def mask_bytes(payload, key):
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(payload), "big")


class WebSocket:
    """A client connection. `connect` does the handshake; `recv` returns whole messages."""

    def __init__(self, sock, response_head, leftover=b""):
        self.sock = sock
        self.response_head = response_head
        self.buffer = leftover
        self.close_code = None
        self.close_reason = None
        self.closed = False

    @classmethod
    def connect(cls, host, port, path="/ws", headers=(), timeout=5.0, tls=False,
                protocols=()):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        authority = f"[{host}]" if ":" in host else host
        lines = [f"GET {path} HTTP/1.1", f"Host: {authority}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13", "Origin: http://pages.example"]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        lines += list(headers)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data:
            if time.monotonic() > deadline:
                raise WebSocketError(f"no handshake response within {timeout}s: {data!r}")
            chunk = sock.recv(4096)
            if not chunk:
                raise WebSocketError(f"connection closed during the handshake: {data!r}")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        text = head.decode("latin-1")
        status = text.split("\r\n", 1)[0]
        if not status.startswith("HTTP/1.1 101"):
            sock.close()
            raise WebSocketError(f"handshake refused: {text!r}")
        fields = {}
        for line in text.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if fields.get("sec-websocket-accept") != accept:
            raise WebSocketError(f"wrong Sec-WebSocket-Accept in {text!r}")
        if fields.get("upgrade", "").lower() != "websocket":
            raise WebSocketError(f"no Upgrade: websocket in {text!r}")
        sock.settimeout(None)
        return cls(sock, text, rest)

    # --- sending ---

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(frame(opcode, payload, fin))

    def send_text(self, text):
        self.send_frame(TEXT, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def close(self, code=1000, reason=""):
        """Starts the close handshake (if still open) and closes the socket."""
        try:
            if not self.closed:
                self.send_frame(CLOSE, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass
        self.closed = True
        self.sock.close()

    # --- receiving ---

    def _fill(self, n, deadline):
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("nothing from the server in time")
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed(None, "TCP connection closed without a close frame")
            self.buffer += chunk

    def _frame(self, deadline):
        self._fill(2, deadline)
        b0, b1 = self.buffer[0], self.buffer[1]
        if b1 & 0x80:
            raise WebSocketError("the server masked a frame")
        if b0 & 0x70:
            raise WebSocketError("RSV bits set by the server")
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buffer[2:4])[0]
            pos = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buffer[2:10])[0]
            pos = 10
        self._fill(pos + n, deadline)
        payload = self.buffer[pos:pos + n]
        self.buffer = self.buffer[pos + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv(self, timeout=5.0):
        """The next message as (opcode, payload bytes). Pings are answered; a close frame is
        answered and raises Closed; TimeoutError if nothing comes in time."""
        deadline = time.monotonic() + timeout
        parts, kind = [], None
        while True:
            fin, opcode, payload = self._frame(deadline)
            if opcode == PING:
                self.send_frame(PONG, payload)
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_code = code
                self.close_reason = payload[2:].decode("utf-8", "replace")
                try:
                    self.send_frame(CLOSE, payload[:2])
                except OSError:
                    pass
                self.closed = True
                raise Closed(code, self.close_reason)
            if opcode in (TEXT, BINARY):
                if kind is not None:
                    raise WebSocketError("a new message inside a fragmented one")
                kind = opcode
            elif opcode != CONTINUATION or kind is None:
                raise WebSocketError(f"unexpected opcode {opcode}")
            parts.append(payload)
            if fin:
                return kind, b"".join(parts)

    def recv_json(self, timeout=5.0):
        """The next message, which must be a text frame holding JSON."""
        kind, payload = self.recv(timeout)
        if kind != TEXT:
            raise WebSocketError(f"a binary message where JSON text was expected: {payload!r}")
        return json.loads(payload.decode("utf-8"))

    def wait_closed(self, timeout=5.0):
        """Reads (and drops) messages until the server closes; returns (code, reason, the
        messages read on the way)."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                seen.append(self.recv(max(0.0, deadline - time.monotonic())))
            except Closed as closed:
                return closed.code, closed.reason, seen
