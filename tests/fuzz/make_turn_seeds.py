#!/usr/bin/env python3
"""Writes the seed scripts of the turn_server fuzz target (see turn_server_fuzz.cpp for the
format) into corpus/turn_server: whole TURN sessions over UDP and TCP, with the nonce that the
target's fixed key and clock accept. MESSAGE-INTEGRITY is re-signed by the target itself."""

import hashlib
import hmac
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from turn_client import (ALLOCATE, CHANNEL_BIND, CHANNEL_NUMBER, CREATE_PERMISSION,  # noqa: E402
                         DATA_ATTR, INDICATION, LIFETIME, NONCE, REALM, REFRESH, REQUEST,
                         REQUESTED_TRANSPORT, SEND, USERNAME, XOR_PEER_ADDRESS, encode,
                         xor_address)

NOW = 1_000_000
TEXT = "obMatJos2gAAA" + "%08x" % (NOW + 3600)
NONCE_VALUE = (TEXT + hmac.new(bytes(32), TEXT.encode(), hashlib.sha256).hexdigest()[:16]).encode()
KEY = hashlib.md5(b"alice:strowger:secret").digest()
PEER = ("203.0.113.9", 7000)


def request(method, attrs, tid):
    auth = [(USERNAME, b"alice"), (REALM, b"strowger"), (NONCE, NONCE_VALUE)]
    return encode(method, REQUEST, attrs + auth, tid, KEY)


def event(kind, payload):
    return struct.pack("!BH", kind, len(payload)) + payload


def session(kind):
    tid = bytes(range(12))
    transport = [(REQUESTED_TRANSPORT, struct.pack("!B3x", 17))]
    peer = [(XOR_PEER_ADDRESS, xor_address(PEER, tid))]
    out = event(kind, encode(ALLOCATE, REQUEST, transport, tid, with_fingerprint=False))
    out += event(kind, request(ALLOCATE, transport, tid))
    out += event(kind, request(CREATE_PERMISSION, peer, tid))
    out += event(kind, encode(SEND, INDICATION, peer + [(DATA_ATTR, b"hello peer")], tid))
    out += event(2, b"hello client")
    out += event(kind, request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!H2x", 0x4001))]
                              + peer, tid))
    out += event(kind, struct.pack("!HH", 0x4001, 5) + b"abcde\0\0\0")
    out += event(2, b"via channel")
    out += event(3, bytes([40]))
    out += event(kind, request(REFRESH, [(LIFETIME, struct.pack("!I", 600))], tid))
    out += event(kind, request(REFRESH, [(LIFETIME, struct.pack("!I", 0))], tid))
    return out


def main():
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "turn_server")
    os.makedirs(folder, exist_ok=True)
    for name, data in (("udp_session", session(0)), ("tcp_session", session(1) + event(4, b""))):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
