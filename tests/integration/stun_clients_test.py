#!/usr/bin/env python3
"""Third-party STUN clients against the real server: coturn's turnutils_stunclient and Debian's
classic RFC 3489 stun-client over UDP, and our own client over UDP (IPv4, IPv6) and TCP."""

import re
import socket
import struct
import subprocess
import time
import unittest

from harness import (ATTR_MAPPED_ADDRESS, ATTR_UNKNOWN_ATTRIBUTES, BINDING_ERROR,
                     BINDING_SUCCESS, Server, attribute, binding_request, error_code, free_port,
                     parse_response, require_tool, run_tests, udp_binding, xor_mapped)


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class StunClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        listen = [f"udp:127.0.0.1:{cls.port}", f"tcp:127.0.0.1:{cls.port}"]
        cls.v6 = ipv6_loopback_available()
        if cls.v6:
            cls.port6 = free_port(host="::1")
            listen += [f"udp:[::1]:{cls.port6}", f"tcp:[::1]:{cls.port6}"]
        setting = "stun.listen=[" + ",".join(f'"{l}"' for l in listen) + "]"
        cls.server = Server(setting, threads=2).__enter__()

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.server.stop()
        cls.server.__exit__(None, None, None)
        assert code == 0, f"server exit code {code}"

    def test_coturn_stunclient_gets_its_address(self):
        # From 127.0.0.2, so the answer can only be right if it reflects the real source.
        out = subprocess.run(["turnutils_stunclient", "-p", str(self.port), "-L", "127.0.0.2",
                              "127.0.0.1"], capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        found = re.findall(r"UDP reflexive addr: ([\d.]+):(\d+)", out.stdout)
        self.assertTrue(found, out.stdout)
        for address, port in found:
            self.assertEqual(address, "127.0.0.2")
            self.assertTrue(1024 <= int(port) <= 65535)

    def test_classic_stun_client_gets_its_address_and_port(self):
        source_port = free_port()
        out = subprocess.run(["stun", f"127.0.0.1:{self.port}", "-v", "-p", str(source_port)],
                             capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
        self.assertIn(f"MappedAddress = 127.0.0.1:{source_port}", text)
        # Its tests II and III ask for a changed address; we have none and say so with 420.
        self.assertNotIn("problem parsing UnknownAttribute", text)
        self.assertIn("Primary: Open", text)

    def test_udp_ipv4_xor_mapped_address(self):
        data, local = udp_binding("127.0.0.1", self.port)
        kind, header, attrs = parse_response(data)
        self.assertEqual(kind, BINDING_SUCCESS)
        self.assertEqual(xor_mapped(attrs, header), local)

    def test_udp_ipv6_xor_mapped_address(self):
        if not self.v6:
            self.skipTest("no IPv6 loopback on this machine")
        data, local = udp_binding("::1", self.port6)
        kind, header, attrs = parse_response(data)
        self.assertEqual(kind, BINDING_SUCCESS)
        self.assertEqual(xor_mapped(attrs, header), local)

    def test_rfc3489_request_gets_mapped_address(self):
        data, local = udp_binding("127.0.0.1", self.port, binding_request(cookie=False))
        kind, _, attrs = parse_response(data)
        self.assertEqual(kind, BINDING_SUCCESS)
        family, port = struct.unpack("!xBH", attrs[ATTR_MAPPED_ADDRESS][:4])
        self.assertEqual((socket.inet_ntoa(attrs[ATTR_MAPPED_ADDRESS][4:8]), port), local)

    def test_unknown_comprehension_required_attribute_gets_420(self):
        request = binding_request(attribute(0x7ABC, b"x"))
        data, _ = udp_binding("127.0.0.1", self.port, request)
        kind, _, attrs = parse_response(data)
        self.assertEqual(kind, BINDING_ERROR)
        self.assertEqual(error_code(attrs), 420)
        self.assertEqual(attrs[ATTR_UNKNOWN_ATTRIBUTES], struct.pack("!H", 0x7ABC))

    def tcp_responses(self, sock, count):
        """Reads `count` STUN messages from a stream, coping with any segmentation."""
        buffer = b""
        messages = []
        sock.settimeout(5)
        while len(messages) < count:
            chunk = sock.recv(4096)
            self.assertTrue(chunk, "connection closed early")
            buffer += chunk
            while len(buffer) >= 20:
                total = 20 + struct.unpack("!H", buffer[2:4])[0]
                if len(buffer) < total:
                    break
                messages.append(buffer[:total])
                buffer = buffer[total:]
        return messages

    def test_tcp_partial_reads_and_pipelined_messages(self):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            local = sock.getsockname()
            first = binding_request(attribute(0x8022, b"split across three writes"))
            for piece in (first[:3], first[3:25], first[25:]):
                sock.sendall(piece)
                time.sleep(0.05)
            burst = [binding_request() for _ in range(3)] + [binding_request(attribute(0x7ABC, b""))]
            sock.sendall(b"".join(burst))
            responses = self.tcp_responses(sock, 5)
        for response, request in zip(responses, [first] + burst):
            kind, header, attrs = parse_response(response)
            self.assertEqual(header, request[4:20], "responses in request order")
            if request is burst[-1]:
                self.assertEqual((kind, error_code(attrs)), (BINDING_ERROR, 420))
            else:
                self.assertEqual(kind, BINDING_SUCCESS)
                self.assertEqual(xor_mapped(attrs, header), local)

    def test_tcp_garbage_closes_the_connection_only(self):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")  # 'G' has the top bits set: not STUN
            sock.settimeout(5)
            self.assertEqual(sock.recv(100), b"")
        data, local = udp_binding("127.0.0.1", self.port)
        self.assertEqual(parse_response(data)[0], BINDING_SUCCESS)


if __name__ == "__main__":
    require_tool("turnutils_stunclient")
    require_tool("stun")
    run_tests()
