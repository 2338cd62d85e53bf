"""A small STUN (RFC 8489) and TURN (RFC 8656) client over UDP: stdlib only.

Enough of TURN to prove relaying: Allocate with the long-term credential mechanism (401 with
REALM and NONCE, then USERNAME, REALM, NONCE, MESSAGE-INTEGRITY), CreatePermission, Send and
Data indications, ChannelBind and ChannelData, and Refresh. Requests are retransmitted over
UDP; anything that is not the awaited response (indications, ChannelData) is queued for
`receive`.
"""

import base64
import binascii
import hashlib
import hmac
import os
import select
import socket
import struct
import time

MAGIC_COOKIE = 0x2112A442

BINDING = 0x001
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009

REQUEST = 0x000
INDICATION = 0x010
SUCCESS = 0x100
ERROR = 0x110

MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
REQUESTED_TRANSPORT = 0x0019
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028

UDP_TRANSPORT = 17
METHOD_NAMES = {BINDING: "Binding", ALLOCATE: "Allocate", REFRESH: "Refresh", SEND: "Send",
                DATA: "Data", CREATE_PERMISSION: "CreatePermission",
                CHANNEL_BIND: "ChannelBind"}


class TurnError(AssertionError):
    """The server answered with an error, or not at all."""


def rest_credentials(secret, user, lifetime=3600):
    """TURN REST ("use-auth-secret") credentials: username "<expiry>:<user>", password
    base64(HMAC-SHA1(secret, username))."""
    username = f"{int(time.time()) + lifetime}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


# ----- encoding -----

def message_type(method, klass):
    """The 14-bit type field: the method's bits interleaved with the two class bits."""
    return ((method & 0xF80) << 2) | ((method & 0x070) << 1) | (method & 0x00F) | klass


def split_type(kind):
    method = ((kind & 0x3E00) >> 2) | ((kind & 0x00E0) >> 1) | (kind & 0x000F)
    return method, kind & 0x0110


def attribute(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def xor_address(address, transaction_id=b""):
    """XOR-PEER-ADDRESS and friends; an IPv6 address is XORed with the transaction id too, so
    pass it (or pass a callable taking the id, as TurnClient.transact accepts)."""
    host, port = address
    head = struct.pack("!I", MAGIC_COOKIE)
    if ":" in host:
        packed = socket.inet_pton(socket.AF_INET6, host)
        xored = bytes(a ^ b for a, b in zip(packed, head + transaction_id))
        return struct.pack("!xBH", 2, port ^ (MAGIC_COOKIE >> 16)) + xored
    packed = socket.inet_aton(host)
    xored = bytes(a ^ b for a, b in zip(packed, head))
    return struct.pack("!xBH", 1, port ^ (MAGIC_COOKIE >> 16)) + xored


def parse_xor_address(value, transaction_id):
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC_COOKIE >> 16)
    if family == 1:
        raw = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC_COOKIE)))
        return socket.inet_ntoa(raw), port
    mask = struct.pack("!I", MAGIC_COOKIE) + transaction_id
    raw = bytes(a ^ b for a, b in zip(value[4:20], mask))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def fingerprint(message):
    return (binascii.crc32(message) ^ 0x5354554E) & 0xFFFFFFFF


def encode(method, klass, attributes=(), transaction_id=None, key=None, with_fingerprint=True):
    """A STUN message; with `key`, MESSAGE-INTEGRITY (HMAC-SHA1) follows the attributes."""
    tid = transaction_id or os.urandom(12)
    body = b"".join(attribute(t, v) for t, v in attributes)
    kind = message_type(method, klass)
    if key is not None:
        head = struct.pack("!HHI", kind, len(body) + 24, MAGIC_COOKIE) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attribute(MESSAGE_INTEGRITY, mac)
    if with_fingerprint:
        head = struct.pack("!HHI", kind, len(body) + 8, MAGIC_COOKIE) + tid
        body += attribute(FINGERPRINT, struct.pack("!I", fingerprint(head + body)))
    return struct.pack("!HHI", kind, len(body), MAGIC_COOKIE) + tid + body


class Message:
    """A decoded STUN message: method, class, transaction id, attributes (first of each kind)."""

    def __init__(self, data):
        if len(data) < 20:
            raise ValueError("shorter than a STUN header")
        kind, length, cookie = struct.unpack("!HHI", data[:8])
        if kind & 0xC000 or cookie != MAGIC_COOKIE or len(data) != 20 + length:
            raise ValueError("not a STUN message")
        self.raw = data
        self.method, self.klass = split_type(kind)
        self.transaction_id = data[8:20]
        self.attrs = {}
        self.offsets = {}
        pos = 20
        while pos < len(data):
            t, n = struct.unpack("!HH", data[pos:pos + 4])
            if pos + 4 + n > len(data):
                raise ValueError("attribute runs past the end")
            self.attrs.setdefault(t, data[pos + 4:pos + 4 + n])
            self.offsets.setdefault(t, pos)
            pos += 4 + n + (4 - n % 4) % 4

    @property
    def name(self):
        klass = {REQUEST: "request", INDICATION: "indication", SUCCESS: "success",
                 ERROR: "error"}[self.klass]
        return f"{METHOD_NAMES.get(self.method, hex(self.method))} {klass}"

    def address(self, kind):
        return parse_xor_address(self.attrs[kind], self.transaction_id)

    def error(self):
        """(code, reason) of an ERROR-CODE attribute, or None."""
        value = self.attrs.get(ERROR_CODE)
        if value is None:
            return None
        return value[2] * 100 + value[3], value[4:].decode("utf-8", "replace")

    def integrity_ok(self, key):
        """Whether MESSAGE-INTEGRITY is present and right for `key`."""
        pos = self.offsets.get(MESSAGE_INTEGRITY)
        if pos is None:
            return False
        head = self.raw[:2] + struct.pack("!H", pos - 20 + 24) + self.raw[4:20]
        mac = hmac.new(key, head + self.raw[20:pos], hashlib.sha1).digest()
        return hmac.compare_digest(mac, self.attrs[MESSAGE_INTEGRITY])

    def fingerprint_ok(self):
        pos = self.offsets.get(FINGERPRINT)
        if pos is None:
            return True  # optional
        head = self.raw[:2] + struct.pack("!H", pos - 20 + 8) + self.raw[4:20]
        return struct.unpack("!I", self.attrs[FINGERPRINT])[0] == fingerprint(head +
                                                                             self.raw[20:pos])


def stun_binding(sock, server, timeout=2.0):
    """This socket's server-reflexive address, from a Binding request to `server`."""
    request = encode(BINDING, REQUEST)
    deadline = time.monotonic() + timeout
    rto = 0.25
    while time.monotonic() < deadline:
        sock.sendto(request, server)
        until = min(deadline, time.monotonic() + rto)
        rto *= 2
        while True:
            left = until - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            data, source = sock.recvfrom(65536)
            try:
                message = Message(data)
            except ValueError:
                continue
            if source == server and message.transaction_id == request[8:20]:
                if message.klass != SUCCESS:
                    raise TurnError(f"Binding answered with {message.name} {message.error()}")
                return message.address(XOR_MAPPED_ADDRESS)
    raise TurnError(f"no Binding response from {server[0]}:{server[1]} within {timeout}s")


# ----- TURN -----

def peer_attribute(peer):
    """An XOR-PEER-ADDRESS value for TurnClient.transact, whatever the family."""
    return lambda tid: xor_address(peer, tid)


class TurnClient:
    """One client's UDP socket to one TURN server, and its allocation there."""

    def __init__(self, sock, server, username, password, label="client"):
        self.sock = sock
        self.server = server
        self.username = username
        self.password = password
        self.label = label
        self.realm = None
        self.nonce = None
        self.key = None
        self.relayed = None
        self.mapped = None
        self.lifetime = None
        self.inbox = []  # (kind, ...) of indications and ChannelData not yet received
        self.software = None

    # --- transport ---

    def _read(self, timeout):
        """One datagram from the server (others are ignored), or None at timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            data, source = self.sock.recvfrom(65536)
            if source[:2] == self.server:  # IPv6 adds flow info and scope
                return data

    def _queue(self, data):
        """Keeps an indication or ChannelData for receive(); returns whether it was one."""
        if len(data) >= 4 and 0x4000 <= struct.unpack("!H", data[:2])[0] <= 0x7FFF:
            channel, length = struct.unpack("!HH", data[:4])
            if 4 + length > len(data):
                raise TurnError(f"{self.label}: ChannelData length {length} with "
                                f"{len(data) - 4} bytes after the header")
            self.inbox.append(("channel", channel, data[4:4 + length]))
            return True
        try:
            message = Message(data)
        except ValueError:
            return False
        if message.klass == INDICATION and message.method == DATA:
            self.inbox.append(("data", message.address(XOR_PEER_ADDRESS),
                               message.attrs.get(DATA_ATTR)))
            return True
        return False

    def transact(self, method, attributes=(), authenticate=True, timeout=3.0):
        """Sends a request (retransmitted) and returns the response Message."""
        tid = os.urandom(12)
        # A value may depend on the transaction id (an XORed IPv6 address): a callable.
        attrs = [(t, v(tid) if callable(v) else v) for t, v in attributes]
        if authenticate:
            attrs += [(USERNAME, self.username.encode()), (REALM, self.realm.encode()),
                      (NONCE, self.nonce)]
        request = encode(method, REQUEST, attrs, tid, self.key if authenticate else None)
        deadline = time.monotonic() + timeout
        rto = 0.25
        while time.monotonic() < deadline:
            self.sock.sendto(request, self.server)
            until = min(deadline, time.monotonic() + rto)
            rto *= 2
            while True:
                data = self._read(until - time.monotonic())
                if data is None:
                    break
                if self._queue(data):
                    continue
                try:
                    message = Message(data)
                except ValueError:
                    continue
                if message.transaction_id != tid:
                    continue
                if not message.fingerprint_ok():
                    raise TurnError(f"{self.label}: bad FINGERPRINT in {message.name}")
                if message.method != method:
                    raise TurnError(f"{self.label}: {METHOD_NAMES[method]} answered with "
                                    f"{message.name}")
                self.software = message.attrs.get(SOFTWARE, self.software)
                return message
        raise TurnError(f"{self.label}: no response to {METHOD_NAMES[method]} from "
                        f"{self.server[0]}:{self.server[1]} within {timeout}s")

    def request(self, method, attributes=()):
        """An authenticated request that must succeed (a stale nonce is renewed once)."""
        for _ in range(2):
            response = self.transact(method, attributes)
            error = response.error()
            if response.klass == ERROR and error and error[0] == 438 and NONCE in response.attrs:
                self.nonce = response.attrs[NONCE]
                continue
            break
        if response.klass != SUCCESS:
            raise TurnError(f"{self.label}: {METHOD_NAMES[method]} failed: {error}")
        if not response.integrity_ok(self.key):
            raise TurnError(f"{self.label}: {response.name} lacks a valid MESSAGE-INTEGRITY")
        return response

    # --- TURN operations ---

    def allocate(self, lifetime=None, ipv6=False):
        """Allocates a UDP relay (IPv6 if asked); returns its (address, port)."""
        transport = [(REQUESTED_TRANSPORT, struct.pack("!B3x", UDP_TRANSPORT))]
        if ipv6:
            transport.append((REQUESTED_ADDRESS_FAMILY, struct.pack("!B3x", 2)))
        if lifetime is not None:
            transport.append((LIFETIME, struct.pack("!I", lifetime)))
        challenge = self.transact(ALLOCATE, transport, authenticate=False)
        if challenge.klass != ERROR or (challenge.error() or (0,))[0] != 401:
            raise TurnError(f"{self.label}: unauthenticated Allocate answered with "
                            f"{challenge.name} {challenge.error()}, not 401")
        if REALM not in challenge.attrs or NONCE not in challenge.attrs:
            raise TurnError(f"{self.label}: the 401 lacks REALM or NONCE")
        self.realm = challenge.attrs[REALM].decode()
        self.nonce = challenge.attrs[NONCE]
        self.key = hashlib.md5(f"{self.username}:{self.realm}:{self.password}".encode()).digest()
        response = self.request(ALLOCATE, transport)
        self.relayed = response.address(XOR_RELAYED_ADDRESS)
        self.mapped = response.address(XOR_MAPPED_ADDRESS)
        self.lifetime = struct.unpack("!I", response.attrs[LIFETIME])[0]
        return self.relayed

    def create_permission(self, peer):
        self.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, peer_attribute(peer))])

    def channel_bind(self, channel, peer):
        self.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!H2x", channel)),
                                    (XOR_PEER_ADDRESS, peer_attribute(peer))])

    def send(self, peer, data):
        """A Send indication (no response) carrying `data` to `peer`."""
        tid = os.urandom(12)
        self.sock.sendto(encode(SEND, INDICATION, [(XOR_PEER_ADDRESS, xor_address(peer, tid)),
                                                   (DATA_ATTR, data)], tid), self.server)

    def send_channel(self, channel, data):
        """ChannelData: a 4-byte header (channel, length), the data, padding to 4 bytes."""
        pad = (4 - len(data) % 4) % 4
        self.sock.sendto(struct.pack("!HH", channel, len(data)) + data + b"\0" * pad,
                         self.server)

    def receive(self, timeout):
        """The next relayed arrival: ("data", peer, bytes) from a Data indication, or
        ("channel", number, bytes) from ChannelData; None if nothing came within `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.inbox:
            data = self._read(deadline - time.monotonic())
            if data is None:
                return None
            self._queue(data)
        return self.inbox.pop(0)

    def release(self):
        """Refresh with LIFETIME 0: the allocation is deleted."""
        if self.relayed is not None:
            self.request(REFRESH, [(LIFETIME, struct.pack("!I", 0))])
            self.relayed = None
