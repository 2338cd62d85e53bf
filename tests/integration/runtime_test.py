#!/usr/bin/env python3
"""The runtime around the services: shards sharing the load, signals, port conflicts and
refused configuration."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (BINARY, BINDING_SUCCESS, Server, binding_request, free_port,
                     parse_response, run_tests, udp_binding)


def listen(port, transports=("udp", "tcp")):
    return "stun.listen=[" + ",".join(f'"{t}:127.0.0.1:{port}"' for t in transports) + "]"


class Runtime(unittest.TestCase):
    def test_two_shards_both_answer_under_load(self):
        port = free_port()
        clients, per_client = 64, 50
        with Server(listen(port, ("udp",)), threads=2) as server:
            sockets = []
            for _ in range(clients):  # many source ports: the kernel hashes flows to shards
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                s.settimeout(2)
                sockets.append(s)
            answered = 0
            for _ in range(per_client):
                for s in sockets:
                    s.sendto(binding_request(), ("127.0.0.1", port))
                for s in sockets:
                    try:
                        data = s.recv(2048)
                        answered += parse_response(data)[0] == BINDING_SUCCESS
                    except socket.timeout:
                        pass
            for s in sockets:
                s.close()
            code, _ = server.stop()
            self.assertEqual(code, 0)
            stats = server.shard_stats()
        self.assertEqual(sorted(stats), [0, 1])
        self.assertGreaterEqual(answered, clients * per_client * 99 // 100)
        for index, counters in stats.items():
            self.assertGreater(counters["success"], 0, f"shard {index} answered nothing: {stats}")
        self.assertEqual(sum(c["success"] for c in stats.values()), answered)

    def test_sigterm_and_sigint_stop_cleanly_within_two_seconds(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            port = free_port()
            with Server(listen(port), threads=2) as server:
                # An open TCP connection must not hold up the shutdown.
                idle = socket.create_connection(("127.0.0.1", port))
                udp_binding("127.0.0.1", port)
                code, seconds = server.stop(sig)
                self.assertEqual(code, 0, server.output())
                self.assertLess(seconds, 2.0)
                self.assertIn("stopped", server.output())
                idle.settimeout(2)
                try:
                    self.assertEqual(idle.recv(10), b"")  # closed by the server
                except ConnectionResetError:
                    pass  # closed by the server, abruptly: also fine
                idle.close()
                # The ports are free again.
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", port))

    def test_refuses_ports_held_by_another_process(self):
        port = free_port()
        with Server(listen(port), threads=2):
            with Server(listen(port), threads=2, expect_start=False) as second:
                self.assertEqual(second.wait_exit(10), 1)
                self.assertIn(f"udp:127.0.0.1:{port}", second.output())
                self.assertIn("another process holds this port", second.output())
            # The first server still answers every request: nothing was split off.
            for _ in range(20):
                data, _ = udp_binding("127.0.0.1", port)
                self.assertEqual(parse_response(data)[0], BINDING_SUCCESS)

        for kind, transport in ((socket.SOCK_DGRAM, "udp"), (socket.SOCK_STREAM, "tcp")):
            port = free_port()
            with socket.socket(socket.AF_INET, kind) as holder:
                holder.bind(("127.0.0.1", port))
                if kind == socket.SOCK_STREAM:
                    holder.listen()
                with Server(listen(port), expect_start=False) as server:
                    self.assertEqual(server.wait_exit(10), 1)
                    self.assertIn(f"{transport}:127.0.0.1:{port}", server.output())

    def run_cli(self, *args):
        return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=20)

    def test_bad_configuration_is_refused_naming_the_key(self):
        port = free_port()
        cases = {
            "stun.listen=[\"udp:127.0.0.1:99999\"]": "stun.listen[0]",
            "general.threads=-3": "general.threads",
            "log.level=loud": "log.level",
            "stun.lissen=[]": "stun.lissen: unknown key",
        }
        for setting, named in cases.items():
            # The bad setting comes last, since a later --set of the same key wins.
            out = self.run_cli("serve", "--set", listen(port), "--set", setting)
            self.assertEqual(out.returncode, 2, setting)
            self.assertIn(named, out.stderr, setting)
            # Nothing was started: the port is still free.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))

    def test_check_config(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "strowger.toml")
        out = self.run_cli("check-config", example)
        self.assertEqual(out.returncode, 0, out.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write("[general]\nthreads = \"two\"\n")
            f.flush()
            out = self.run_cli("check-config", f.name)
            self.assertEqual(out.returncode, 2)
            self.assertIn("general.threads: expected an integer", out.stderr)
            f.seek(0)
            f.write("[general\n")
            f.flush()
            out = self.run_cli("check-config", f.name)
            self.assertEqual(out.returncode, 2)
            self.assertIn(f.name + ":1:", out.stderr)

    def test_version_and_help(self):
        out = self.run_cli("version")
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^strowger \d+\.\d+\.\d+")
        out = self.run_cli("--help")
        for sub in ("serve", "check-config", "version"):
            self.assertIn(sub, out.stdout)


if __name__ == "__main__":
    run_tests()
