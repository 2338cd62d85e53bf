#!/usr/bin/env python3
"""Opens N TURN allocations over UDP, holds them, then releases them (bounded).

Usage: hold_allocations.py PORT COUNT USER PASSWORD PEER_PORT READY_FILE [MAX_HOLD_S]

Each allocation has its own UDP socket on 127.0.0.1 and goes through the long-term credential
exchange: an Allocate without credentials, the 401 with REALM and NONCE, then the Allocate
with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (HMAC-SHA1 keyed by
MD5(user:realm:password)) and REQUESTED-TRANSPORT UDP. A 438 (stale nonce) takes the new
nonce and retries. Requests are pipelined (at most 64 in flight) and retransmitted every
0.5 s, at most 6 times.

Steps, each reported by rewriting READY_FILE with one line "STEP COUNT":
  1. "allocated N": every allocation is up. Then waits for SIGUSR1 (next step) or SIGTERM.
  2. on SIGUSR1, each allocation gets a permission for 127.0.0.1 (CreatePermission) and the
     channel 0x4000 bound to 127.0.0.1:PEER_PORT (ChannelBind), as a call's allocation has:
     "bound N". Then waits for SIGTERM.
  3. on SIGTERM (or after MAX_HOLD_S seconds, default 300, in any step): a Refresh with
     LIFETIME 0 deletes every allocation; then it exits.
"""

import hashlib
import hmac
import os
import selectors
import signal
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 0x003, 0x004, 0x008, 0x009
A_USERNAME, A_MESSAGE_INTEGRITY, A_ERROR_CODE = 0x0006, 0x0008, 0x0009
A_CHANNEL_NUMBER, A_LIFETIME, A_XOR_PEER_ADDRESS = 0x000C, 0x000D, 0x0012
A_REALM, A_NONCE, A_REQUESTED_TRANSPORT = 0x0014, 0x0015, 0x0019
IN_FLIGHT = 64
RETRY_S = 0.5
TRIES = 6


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def xor_address(host, port):
    addr = struct.unpack("!I", socket.inet_aton(host))[0]
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), addr ^ MAGIC)


def parse(data):
    """(message type, transaction id, {attribute: value}) or None."""
    if len(data) < 20:
        return None
    mtype, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or 20 + length > len(data):
        return None
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length:
        kind, alen = struct.unpack("!HH", data[pos:pos + 4])
        attrs.setdefault(kind, data[pos + 4:pos + 4 + alen])
        pos += 4 + alen + (4 - alen % 4) % 4
    return mtype, data[8:20], attrs


class Flow:
    """One client socket and its allocation."""

    def __init__(self, server):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(server)
        self.sock.setblocking(False)
        self.realm = self.nonce = None
        self.txid = None
        self.request = None
        self.sent_at = 0.0
        self.tries = 0


class Client:
    def __init__(self, server, user, password):
        self.server = server
        self.user = user.encode()
        self.password = password.encode()
        self.sel = selectors.DefaultSelector()

    def build(self, flow, method, attrs):
        flow.txid = os.urandom(12)
        body = b"".join(attrs)
        if flow.nonce is not None:
            body += attr(A_USERNAME, self.user) + attr(A_REALM, flow.realm)
            body += attr(A_NONCE, flow.nonce)
            key = hashlib.md5(self.user + b":" + flow.realm + b":" + self.password).digest()
            head = struct.pack("!HHI", method, len(body) + 24, MAGIC) + flow.txid
            mac = hmac.new(key, head + body, hashlib.sha1).digest()
            body += attr(A_MESSAGE_INTEGRITY, mac)
        return struct.pack("!HHI", method, len(body), MAGIC) + flow.txid + body

    def run(self, flows, method, make_attrs, deadline):
        """Sends METHOD on every flow (credentials after the first 401); returns successes."""
        waiting = list(reversed(flows))
        busy = {}
        done = 0

        def send(flow, fresh):
            if fresh:
                flow.tries = 0
            flow.request = self.build(flow, method, make_attrs(flow))
            flow.sent_at = time.monotonic()
            flow.tries += 1
            try:
                flow.sock.send(flow.request)
            except OSError:
                pass

        while (waiting or busy) and time.monotonic() < deadline:
            while waiting and len(busy) < IN_FLIGHT:
                flow = waiting.pop()
                busy[flow.sock.fileno()] = flow
                self.sel.register(flow.sock, selectors.EVENT_READ, flow)
                send(flow, True)
            for key, _ in self.sel.select(timeout=0.05):
                flow = key.data
                try:
                    data = flow.sock.recv(2048)
                except OSError:
                    continue
                msg = parse(data)
                if msg is None or msg[1] != flow.txid:
                    continue
                mtype, _, attrs = msg
                finished = True
                if mtype == (method | 0x0100):
                    done += 1
                elif mtype == (method | 0x0110):
                    err = attrs.get(A_ERROR_CODE, b"\0\0\0\0")
                    code = (err[2] & 7) * 100 + err[3]
                    if code in (401, 438) and A_NONCE in attrs and flow.tries < TRIES:
                        retry = code == 438 or flow.nonce is None
                        flow.nonce = attrs[A_NONCE]
                        flow.realm = attrs.get(A_REALM, flow.realm)
                        if retry:
                            send(flow, False)
                            finished = False
                    if finished:
                        print(f"method {method:#x}: error {code}", file=sys.stderr)
                if finished:
                    self.sel.unregister(flow.sock)
                    del busy[flow.sock.fileno()]
            now = time.monotonic()
            for fd, flow in list(busy.items()):
                if now - flow.sent_at < RETRY_S:
                    continue
                if flow.tries >= TRIES:
                    self.sel.unregister(flow.sock)
                    del busy[fd]
                    print(f"method {method:#x}: no answer", file=sys.stderr)
                    continue
                flow.sent_at = now
                flow.tries += 1
                try:
                    flow.sock.send(flow.request)  # same transaction: a retransmission
                except OSError:
                    pass
        for flow in busy.values():
            self.sel.unregister(flow.sock)
        return done


def report(path, step, count):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{step} {count}\n")
    os.replace(tmp, path)


def main():
    if len(sys.argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    port, count = int(sys.argv[1]), int(sys.argv[2])
    user, password = sys.argv[3], sys.argv[4]
    peer_port, ready = int(sys.argv[5]), sys.argv[6]
    max_hold = float(sys.argv[7]) if len(sys.argv) == 8 else 300.0
    stop_at = time.monotonic() + max_hold
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM, signal.SIGINT})

    def wait_signal():
        left = stop_at - time.monotonic()
        got = signal.sigtimedwait({signal.SIGUSR1, signal.SIGTERM, signal.SIGINT},
                                  max(left, 0.01))
        return got.si_signo if got else None

    client = Client(("127.0.0.1", port), user, password)
    flows = [Flow(client.server) for _ in range(count)]
    transport = attr(A_REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))
    allocated = client.run(flows, ALLOCATE, lambda f: [transport], stop_at)
    report(ready, "allocated", allocated)
    if wait_signal() == signal.SIGUSR1:
        peer = xor_address("127.0.0.1", peer_port)
        client.run(flows, CREATE_PERMISSION, lambda f: [attr(A_XOR_PEER_ADDRESS, peer)], stop_at)
        channel = struct.pack("!HH", 0x4000, 0)
        bound = client.run(flows, CHANNEL_BIND, lambda f: [attr(A_CHANNEL_NUMBER, channel),
                                                          attr(A_XOR_PEER_ADDRESS, peer)],
                           stop_at)
        report(ready, "bound", bound)
        wait_signal()
    zero = attr(A_LIFETIME, struct.pack("!I", 0))
    released = client.run(flows, REFRESH, lambda f: [zero], time.monotonic() + 10)
    print(f"released {released} of {allocated} allocations", file=sys.stderr)
    for flow in flows:
        flow.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
