#!/usr/bin/env python3
"""10,000 random, truncated and bit-flipped datagrams neither crash nor stall the server: a
Binding right after still succeeds, and the junk is counted as malformed."""

import random
import socket
import time
import unittest

from harness import (BINDING_SUCCESS, Server, attribute, binding_request, free_port,
                     parse_response, run_tests, udp_binding, xor_mapped)

DATAGRAMS = 10_000


def junk(rng):
    valid = binding_request(attribute(0x8022, b"robustness") + attribute(0x0024, b"\0\0\0\1"))
    choice = rng.randrange(4)
    if choice == 0:  # random bytes
        return rng.randbytes(rng.randrange(0, 600))
    if choice == 1:  # a valid request cut short
        return valid[:rng.randrange(0, len(valid))]
    if choice == 2:  # bit flips anywhere
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    # a STUN-looking header whose length lies
    data = bytearray(valid)
    data[2:4] = rng.randrange(0, 65536).to_bytes(2, "big")
    return bytes(data)


class Robustness(unittest.TestCase):
    def test_junk_does_not_crash_or_stall(self):
        port = free_port()
        with Server(f'stun.listen=["udp:127.0.0.1:{port}"]', threads=2) as server:
            rng = random.Random(1)
            sent = 0
            deadline = time.monotonic() + 60
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setblocking(False)
                while sent < DATAGRAMS and time.monotonic() < deadline:
                    try:
                        s.sendto(junk(rng), ("127.0.0.1", port))
                        sent += 1
                    except BlockingIOError:
                        time.sleep(0.001)
                    if sent % 500 == 0:
                        time.sleep(0.005)  # keep the server's receive buffer from overflowing
                    try:
                        while s.recv(2048):  # drain any answers to still-valid requests
                            pass
                    except BlockingIOError:
                        pass
            self.assertEqual(sent, DATAGRAMS)

            data, local = udp_binding("127.0.0.1", port)
            kind, header, attrs = parse_response(data)
            self.assertEqual(kind, BINDING_SUCCESS)
            self.assertEqual(xor_mapped(attrs, header), local)

            code, _ = server.stop()
            self.assertEqual(code, 0, server.output())
            stats = server.shard_stats()
            dropped = sum(s["malformed"] + s["bad_fingerprint"] for s in stats.values())
            received = sum(s["received"] for s in stats.values())
            self.assertGreater(dropped, DATAGRAMS // 4, stats)
            self.assertGreater(received, DATAGRAMS * 9 // 10, stats)


if __name__ == "__main__":
    run_tests()
