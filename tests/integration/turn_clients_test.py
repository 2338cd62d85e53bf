"""TURN (RFC 8656) interop: coturn's own client tools against the real strowger binary.

turnutils_uclient allocates relays on strowger and bounces its messages off turnutils_peer
through them, over UDP, TCP and TLS, with channels and with Send/Data indications, with an
account's long-term credentials and with TURN REST credentials. What must fail fails with the
right code: a wrong password or an expired REST credential gets 401, a peer in a denied range
gets 403 (the CVE-2020-26262 addresses 0.0.0.0 and [::] included), and the relay-to-relay
exception lets two relays of this server talk while its other ports stay out of reach.
"""

import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import harness
from turn_client import (CREATE_PERMISSION, CHANNEL_BIND, CHANNEL_NUMBER, ERROR, SUCCESS,
                         XOR_PEER_ADDRESS, TurnClient, TurnError, peer_attribute,
                         rest_credentials)

SECRET = "north-by-northwest"
PASSWORD = "correct horse"


def uclient(port, *args, messages=20, clients=2, peer_port=None, timeout=60):
    """Runs turnutils_uclient; returns (exit code, output, messages sent, received)."""
    command = ["turnutils_uclient", "-p", str(port), "-n", str(messages), "-m", str(clients),
               "-l", "160", "-e", "127.0.0.1", "-r", str(peer_port), *args, "127.0.0.1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", output, re.M)
    sent, received = (int(totals[-1][0]), int(totals[-1][1])) if totals else (0, 0)
    return done.returncode, output, sent, received


class TurnServerCase(unittest.TestCase):
    """A strowger with a user `alice`, a REST secret and a turnutils_peer to relay to."""

    allowed_peers = '["127.0.0.0/8"]'
    listen = ("udp", "tcp")

    @classmethod
    def setUpClass(cls):
        for tool in ("turnutils_uclient", "turnutils_peer", "openssl"):
            harness.require_tool(tool)
        cls.port = harness.free_port()
        cls.tls_port = harness.free_port(socket.SOCK_STREAM)
        specs = [f'"{t}:127.0.0.1:{cls.port}"' for t in cls.listen]
        settings = [f"stun.listen=[{','.join(specs)},\"tls:127.0.0.1:{cls.tls_port}\"]",
                    "turn.relay_address=127.0.0.1", f"turn.auth_secret={SECRET}",
                    "turn.relay_ports=\"41000-41999\""]
        if cls.allowed_peers:
            settings.append(f"turn.allowed_peers={cls.allowed_peers}")
        cls.server = harness.Server(*settings)
        data_dir = cls.server.data_dir
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", os.path.join(data_dir, "key.pem"),
                        "-out", os.path.join(data_dir, "cert.pem")],
                       check=True, capture_output=True)
        add = subprocess.run([harness.BINARY, "user", "add", "alice", PASSWORD, "--set",
                              f"general.data_dir={data_dir}"], capture_output=True, text=True)
        assert add.returncode == 0, add.stderr
        cls.server.__enter__()
        cls.peer_port = harness.free_port()
        cls.peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p",
                                     str(cls.peer_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    @classmethod
    def tearDownClass(cls):
        cls.peer.kill()
        cls.peer.wait()
        code, _ = cls.server.stop()
        output = cls.server.output()
        cls.server.__exit__(None, None, None)
        assert code == 0, f"server exit code {code}:\n{output[-3000:]}"

    def client(self, username="alice", password=PASSWORD, family=socket.AF_INET,
               host="127.0.0.1", port=None):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        self.addCleanup(sock.close)
        return TurnClient(sock, (host, port or self.port), username, password)

    def assert_relayed(self, *args, **kw):
        code, output, sent, received = uclient(self.port if "-S" not in args else self.tls_port,
                                               *args, peer_port=self.peer_port, **kw)
        self.assertEqual(code, 0, output[-2000:])
        self.assertGreater(sent, 0, output[-2000:])
        self.assertEqual(received, sent, output[-2000:])
        self.assertIn("Total lost packets 0 ", output)
        print(f"turnutils_uclient {' '.join(args)}: {sent} messages sent, {received} came back")


class CoturnClientsTest(TurnServerCase):
    def test_udp_channels(self):
        self.assert_relayed("-u", "alice", "-w", PASSWORD)

    def test_udp_send_and_data_indications(self):
        self.assert_relayed("-c", "-u", "alice", "-w", PASSWORD)

    def test_tcp_channels(self):
        self.assert_relayed("-t", "-u", "alice", "-w", PASSWORD)

    def test_tcp_send_and_data_indications(self):
        self.assert_relayed("-t", "-c", "-u", "alice", "-w", PASSWORD)

    def test_tls_channels(self):
        self.assert_relayed("-t", "-S", "-u", "alice", "-w", PASSWORD)

    def test_rest_credentials(self):
        # turnutils_uclient mints "<expiry>:bob" and its password from the shared secret.
        self.assert_relayed("-W", SECRET, "-u", "bob")

    def test_wrong_password_gets_401(self):
        code, output, sent, received = uclient(self.port, "-u", "alice", "-w", "wrong",
                                               peer_port=self.peer_port, clients=1, messages=2)
        self.assertNotEqual(code, 0, output)
        self.assertIn("Cannot complete Allocation", output)
        client = self.client(password="wrong")
        with self.assertRaisesRegex(TurnError, r"Allocate failed: \(401, 'Unauthorized'\)"):
            client.allocate()

    def test_expired_rest_credential_gets_401(self):
        username = f"{int(time.time()) - 60}:bob"
        password = base64.b64encode(hmac.new(SECRET.encode(), username.encode(),
                                             hashlib.sha1).digest()).decode()
        code, output, _, _ = uclient(self.port, "-u", username, "-w", password,
                                     peer_port=self.peer_port, clients=1, messages=2)
        self.assertNotEqual(code, 0, output)
        with self.assertRaisesRegex(TurnError, r"\(401, 'Unauthorized'\)"):
            self.client(username, password).allocate()
        # The same user with a credential still valid is served.
        fresh = self.client(*rest_credentials(SECRET, "bob"))
        fresh.allocate()
        fresh.release()


class DeniedPeersTest(TurnServerCase):
    """No turn.allowed_peers: the default policy, on a relay bound to loopback."""

    allowed_peers = None

    def permission_error(self, client, peer):
        response = client.transact(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, peer_attribute(peer))])
        if response.klass == SUCCESS:
            return None
        return response.error()[0]

    def test_coturn_client_to_loopback_peer_gets_403(self):
        code, output, _, received = uclient(self.port, "-u", "alice", "-w", PASSWORD,
                                            peer_port=self.peer_port, clients=1, messages=2)
        self.assertIn("error 403", output)
        self.assertEqual(received, 0)

    def test_denied_ipv4_ranges(self):
        client = self.client()
        client.allocate()
        for host in ("127.0.0.1", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                     "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255"):
            with self.subTest(peer=host):
                self.assertEqual(self.permission_error(client, (host, 3478)), 403)
        # A channel to a denied peer is refused the same way.
        response = client.transact(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!H2x", 0x4001)),
                                                  (XOR_PEER_ADDRESS,
                                                   peer_attribute(("0.0.0.0", 3478)))])
        self.assertEqual((response.klass, response.error()[0]), (ERROR, 403))
        # A public address is fine.
        self.assertIsNone(self.permission_error(client, ("198.51.100.7", 5000)))
        client.release()

    def test_relay_to_relay_is_allowed_but_not_other_ports(self):
        alice = self.client()
        bob = self.client(*rest_credentials(SECRET, "bob"))
        a_relay = alice.allocate()
        b_relay = bob.allocate()
        self.assertEqual(a_relay[0], "127.0.0.1")
        # 127.0.0.1 is loopback, denied; but these are this server's relay endpoints.
        alice.create_permission(b_relay)
        bob.create_permission(a_relay)
        alice.send(b_relay, b"hello bob")
        self.assertEqual(bob.receive(2.0), ("data", a_relay, b"hello bob"))
        bob.channel_bind(0x4002, a_relay)
        bob.send_channel(0x4002, b"hello alice")
        self.assertEqual(alice.receive(2.0), ("data", b_relay, b"hello alice"))
        # The server's other ports on the same address stay out of reach: its STUN port, its
        # SIP port, and a relay port that is not allocated.
        for port in (self.port, self.server.sip_port, 41999 if b_relay[1] != 41999 else 41998):
            with self.subTest(port=port):
                self.assertEqual(self.permission_error(alice, ("127.0.0.1", port)), 403)
        # Even with a permission for the address, a Send to the STUN port is dropped: the
        # Binding request inside would otherwise be answered to the relay.
        binding = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + os.urandom(12)
        alice.send(("127.0.0.1", self.port), binding)
        self.assertIsNone(alice.receive(0.5))
        alice.release()
        bob.release()


class GeneratedSecretTest(unittest.TestCase):
    """Without turn.auth_secret the server makes one at first start, keeps it private in the
    data directory, and uses the same one after a restart."""

    def test_generated_secret_survives_a_restart(self):
        port = harness.free_port()
        data_dir = tempfile.mkdtemp(prefix="strowger-it-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        settings = (f'stun.listen=["udp:127.0.0.1:{port}"]', "turn.relay_address=127.0.0.1",
                    'turn.relay_ports="43000-43099"')
        path = os.path.join(data_dir, "turn_secret")
        with harness.Server(*settings, data_dir=data_dir) as first:
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                secret = f.read().strip()
            self.assertRegex(secret, r"^[0-9a-f]{64}$")
            self.assertEqual(first.stop()[0], 0)
        with harness.Server(*settings, data_dir=data_dir) as second:
            with open(path) as f:
                self.assertEqual(f.read().strip(), secret)
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            self.addCleanup(sock.close)
            client = TurnClient(sock, ("127.0.0.1", port), *rest_credentials(secret, "dave"))
            client.allocate()
            client.release()
            self.assertEqual(second.stop()[0], 0)


class Ipv6DeniedPeersTest(unittest.TestCase):
    """An IPv6 relay: the IPv6 forms of the denied ranges, and IPv4-mapped addresses."""

    @classmethod
    def setUpClass(cls):
        if not socket.has_ipv6:
            harness.missing_requirement("IPv6 loopback (::1) is not available")
        cls.port = harness.free_port(host="::1")
        cls.server = harness.Server(f'stun.listen=["udp:[::1]:{cls.port}"]',
                                    "turn.relay_address=::1", f"turn.auth_secret={SECRET}",
                                    "turn.relay_ports=\"42000-42099\"")
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.__exit__(None, None, None)

    def test_denied_ipv6_ranges(self):
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.bind(("::1", 0))
        self.addCleanup(sock.close)
        client = TurnClient(sock, ("::1", self.port), *rest_credentials(SECRET, "carol"))
        relay = client.allocate(ipv6=True)
        self.assertEqual(relay[0], "::1")
        for host in ("::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
                     "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "64:ff9b::7f00:1"):
            with self.subTest(peer=host):
                response = client.transact(CREATE_PERMISSION,
                                           [(XOR_PEER_ADDRESS, peer_attribute((host, 3478)))])
                self.assertEqual((response.klass, response.error()[0]), (ERROR, 403))
        client.create_permission(("2001:db8::7", 5000))
        client.release()


if __name__ == "__main__":
    harness.run_tests()
