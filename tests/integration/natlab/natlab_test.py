#!/usr/bin/env python3
"""The NAT lab: real Linux NATs in network namespaces show that STUN alone fails behind
symmetric NATs and that TURN relaying through strowger always works.

Topology (see topology.py): strowger on a public segment at 203.0.113.1 (STUN/TURN on 3478),
two NAT routers (public 203.0.113.10 and .20) each with one client behind it (10.0.1.2,
10.0.2.2). Every scenario runs with both NATs endpoint-independent (masquerade keeping the
port) and with both symmetric (masquerade fully-random):
  (a) a STUN Binding from each client reports its NAT's public address, not the private one;
  (b) UDP hole punching between the STUN-mapped addresses works with endpoint-independent NATs
      and fails with symmetric ones;
  (c) both clients allocate TURN relays and exchange data relay to relay, by Send/Data
      indications in both directions and by ChannelData in one.

Needs root, `ip`, `nft` and `setpriv`. NATLAB_SERVER=coturn runs the same checks against
coturn's turnserver instead of strowger (to tell a test bug from a server bug).
"""

import os
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402
import topology  # noqa: E402
from topology import EIM, SERVER_IP, SITES, SYMMETRIC, Lab  # noqa: E402
from turn_client import TurnClient, rest_credentials, stun_binding  # noqa: E402

USE_COTURN = os.environ.get("NATLAB_SERVER") == "coturn"
SECRET = "natlab-" + os.urandom(8).hex()
STUN_PORT = 3478
SERVER = (SERVER_IP, STUN_PORT)
RELAY_PORTS = (49152, 49252)
PUNCH_WINDOW = 2.0  # seconds a hole-punching attempt may take
PROBE_INTERVAL = 0.1
RELAY_WAIT = 2.0  # seconds for one relayed message to arrive


def say(text):
    print(text, flush=True)


class Coturn:
    """coturn's turnserver in the public namespace, for comparison."""

    def __init__(self, lab):
        self.lab = lab
        self.data_dir = lab.make_directory("coturn")
        self.log_path = os.path.join(self.data_dir, "turnserver.log")

    def __enter__(self):
        self.log = open(self.log_path, "w+")
        port_min, port_max = RELAY_PORTS
        self.proc = self.lab.spawn(self.lab.public, [
            "turnserver", "-n", f"--listening-ip={SERVER_IP}", f"--relay-ip={SERVER_IP}",
            f"--listening-port={STUN_PORT}", "--use-auth-secret",
            f"--static-auth-secret={SECRET}", "--realm=strowger", "--no-tls", "--no-dtls",
            f"--min-port={port_min}", f"--max-port={port_max}", "--no-cli",
            f"--userdb={self.data_dir}/turndb", f"--pidfile={self.data_dir}/turnserver.pid",
            "--log-file=stdout"], stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        """Like harness.Server.stop: (exit code, seconds taken)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, time.monotonic() - start

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def start_strowger(lab):
    server = harness.Server(
        f'stun.listen=["udp:{SERVER_IP}:{STUN_PORT}","tcp:{SERVER_IP}:{STUN_PORT}"]',
        'sip.listen=["udp:127.0.0.1:5060"]',  # the namespace's own loopback: always free
        f"turn.relay_address={SERVER_IP}",
        f"turn.auth_secret={SECRET}",
        f'turn.relay_ports="{RELAY_PORTS[0]}-{RELAY_PORTS[1]}"',
        prefix=lab.command_prefix(lab.public), data_dir=lab.make_directory("strowger"))
    try:
        server.__enter__()
    except BaseException:
        server.__exit__(None, None, None)
        raise
    finally:
        if server.proc is not None:
            lab.processes.append(server.proc)  # killed by PID if the lab is torn down early
    return server


class NatLab(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab().__enter__()
        try:
            if USE_COTURN:
                cls.server = Coturn(cls.lab).__enter__()
            else:
                cls.server = start_strowger(cls.lab)
            cls.wait_until_answering()
        except BaseException:
            cls.shut_down()
            raise
        say(f"lab {cls.lab.tag}: {'coturn' if USE_COTURN else 'strowger'} on "
            f"{SERVER_IP}:{STUN_PORT}; NATs {', '.join(s[0] for s in SITES.values())}")

    @classmethod
    def wait_until_answering(cls):
        """The server answers STUN on its public address (seen from inside a LAN)."""
        deadline = time.monotonic() + 10
        while True:
            sock = cls.lab.client_socket("a")
            try:
                stun_binding(sock, SERVER, timeout=0.5)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"server not answering STUN on {SERVER}:\n"
                                         f"{cls.server.output()}")
            finally:
                sock.close()

    @classmethod
    def shut_down(cls):
        server = getattr(cls, "server", None)
        code = None
        try:
            if server is not None and server.proc.poll() is None:
                code = server.stop()[0]
        finally:
            if server is not None:
                server.__exit__(None, None, None)
            cls.lab.close()
        return code

    @classmethod
    def tearDownClass(cls):
        code = cls.shut_down()
        if not USE_COTURN:
            assert code == 0, f"server exit code {code}"

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        for s in self.sockets:
            s.close()

    # ----- helpers -----

    def set_mode(self, mode):
        self.lab.set_all_nats(mode)
        say(f"\n== both NATs {mode} ==")

    def client_socket(self, site):
        s = self.lab.client_socket(site)
        self.sockets.append(s)
        return s

    def server_log_tail(self, lines=40):
        return "\n".join(self.server.output().splitlines()[-lines:])

    def stun_mapping(self, site):
        """A fresh client socket and the public address a STUN Binding reports for it."""
        sock = self.client_socket(site)
        mapped = stun_binding(sock, SERVER)
        return sock, mapped

    def check_public_addresses(self, mode):
        for site, (wan, _, lan) in SITES.items():
            sock, mapped = self.stun_mapping(site)
            local = sock.getsockname()
            say(f"{mode}: client {site.upper()} {lan}:{local[1]} -> STUN says "
                f"{mapped[0]}:{mapped[1]}")
            self.assertEqual(mapped[0], wan, f"client {site.upper()} should be seen as its "
                                            f"NAT's public address")
            self.assertNotEqual(mapped[0], lan)

    def hole_punch(self, mode):
        """Both clients learn their public address by STUN, then send probes to each other's
        from the same socket for up to PUNCH_WINDOW seconds. Returns {site: (source, probe)}
        of the first probe each received."""
        socks, mapped = {}, {}
        for site in SITES:
            socks[site], mapped[site] = self.stun_mapping(site)
        say(f"{mode}: A public {mapped['a'][0]}:{mapped['a'][1]}, "
            f"B public {mapped['b'][0]}:{mapped['b'][1]}")
        other = {"a": "b", "b": "a"}
        received = {}
        start = time.monotonic()
        deadline = start + PUNCH_WINDOW
        next_probe = start
        count = 0
        while len(received) < len(SITES) and time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_probe:
                count += 1
                for site in SITES:
                    socks[site].sendto(f"probe {count} from {site.upper()}".encode(),
                                       mapped[other[site]])
                next_probe = now + PROBE_INTERVAL
            ready = select_ready(list(socks.values()), min(next_probe, deadline) - now)
            for site, sock in socks.items():
                if sock in ready:
                    data, source = sock.recvfrom(2048)
                    if data.startswith(b"probe") and site not in received:
                        received[site] = (source, data.decode())
        elapsed = time.monotonic() - start
        if received:
            for site, (source, data) in sorted(received.items()):
                say(f"{mode}: hole punch: {site.upper()} got '{data}' from "
                    f"{source[0]}:{source[1]}")
        if len(received) < len(SITES):
            missing = [s.upper() for s in SITES if s not in received]
            say(f"{mode}: hole punch: no probe reached {' or '.join(missing)} in "
                f"{PUNCH_WINDOW:.1f} s ({count} probes each way)")
        else:
            say(f"{mode}: hole punch: both directions open after {elapsed:.2f} s")
        return received, mapped

    def turn_relay(self, mode):
        clients = {}
        for site in SITES:
            username, password = rest_credentials(SECRET, {"a": "alice", "b": "bob"}[site])
            clients[site] = TurnClient(self.client_socket(site), SERVER, username, password,
                                       label=f"client {site.upper()}")
        a, b = clients["a"], clients["b"]
        try:
            for site, client in clients.items():
                relayed = client.allocate()
                say(f"{mode}: client {site.upper()} allocated relay {relayed[0]}:{relayed[1]} "
                    f"(realm {client.realm!r}, seen as {client.mapped[0]}:{client.mapped[1]}, "
                    f"lifetime {client.lifetime} s)")
                self.assertEqual(relayed[0], SERVER_IP)
                self.assertTrue(RELAY_PORTS[0] <= relayed[1] <= RELAY_PORTS[1], relayed)
                self.assertEqual(client.mapped[0], SITES[site][0])
            self.assertNotEqual(a.relayed, b.relayed)
            # The test is the signalling channel: each learns the other's relay address.
            a.create_permission(b.relayed)
            b.create_permission(a.relayed)
            say(f"{mode}: permissions: A for {b.relayed[0]}:{b.relayed[1]}, "
                f"B for {a.relayed[0]}:{a.relayed[1]}")

            for sender, receiver, payload in ((a, b, b"hello from A via TURN"),
                                              (b, a, b"hi A, B here (odd length)")):
                sender.send(receiver.relayed, payload)
                got = receiver.receive(RELAY_WAIT)
                say(f"{mode}: Send indication {sender.label[-1]} -> {receiver.label[-1]}: "
                    f"{describe(got)}")
                self.assertIsNotNone(got, f"{receiver.label} got nothing within {RELAY_WAIT} s")
                self.assertEqual(got, ("data", sender.relayed, payload))

            a.channel_bind(0x4000, b.relayed)
            b.channel_bind(0x4001, a.relayed)
            payload = b"ChannelData A->B"
            a.send_channel(0x4000, payload)
            got = b.receive(RELAY_WAIT)
            say(f"{mode}: ChannelData A(0x4000) -> B(0x4001): {describe(got)}")
            self.assertIsNotNone(got, f"client B got nothing within {RELAY_WAIT} s")
            self.assertEqual(got, ("channel", 0x4001, payload))
            for client in clients.values():
                client.release()
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- server log (tail) ---\n{self.server_log_tail()}") \
                from None

    # ----- the scenarios -----

    def test_endpoint_independent_stun_reports_public_address(self):
        self.set_mode(EIM)
        self.check_public_addresses(EIM)

    def test_endpoint_independent_hole_punching_works(self):
        self.set_mode(EIM)
        received, mapped = self.hole_punch(EIM)
        self.assertEqual(set(received), set(SITES), "both clients must receive a probe")
        # Each probe came from exactly the address STUN reported for the other client.
        self.assertEqual(received["a"][0], mapped["b"])
        self.assertEqual(received["b"][0], mapped["a"])

    def test_endpoint_independent_turn_relay_works(self):
        self.set_mode(EIM)
        self.turn_relay(EIM)

    def test_symmetric_stun_reports_public_address(self):
        self.set_mode(SYMMETRIC)
        self.check_public_addresses(SYMMETRIC)

    def test_symmetric_hole_punching_fails(self):
        self.set_mode(SYMMETRIC)
        received, _ = self.hole_punch(SYMMETRIC)
        self.assertEqual(received, {}, "no probe may cross symmetric NATs")

    def test_symmetric_turn_relay_works(self):
        self.set_mode(SYMMETRIC)
        self.turn_relay(SYMMETRIC)


def select_ready(socks, timeout):
    return select.select(socks, [], [], max(0.0, timeout))[0]


def describe(got):
    if got is None:
        return "nothing"
    kind, source, data = got
    if kind == "data":
        return f"Data indication from {source[0]}:{source[1]}: {data!r}"
    return f"ChannelData on 0x{source:04x}: {data!r}"


def check_requirements():
    if os.geteuid() != 0:
        harness.missing_requirement("the NAT lab needs root (network namespaces, nftables)")
    for tool in ("ip", "nft", "setpriv") + (("turnserver",) if USE_COTURN else ()):
        harness.require_tool(tool)
    probe = f"{topology.PREFIX}{os.getpid()}-probe"
    out = topology.run("ip", "netns", "add", probe, check=False)
    if out.returncode != 0:
        harness.missing_requirement(f"cannot create network namespaces: {out.stderr.strip()}")
    try:
        out = topology.run("ip", "netns", "exec", probe, "nft", "list", "ruleset", check=False)
        if out.returncode != 0:
            harness.missing_requirement(f"nftables unusable in a namespace: "
                                        f"{out.stderr.strip()}")
    finally:
        topology.run("ip", "netns", "del", probe, check=False)


if __name__ == "__main__":
    check_requirements()
    if USE_COTURN:
        result = unittest.main(exit=False, verbosity=2).result
        sys.exit(0 if result.wasSuccessful() else 1)
    harness.run_tests()
