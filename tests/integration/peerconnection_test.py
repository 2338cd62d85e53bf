#!/usr/bin/env python3
"""The libwebrtc `peerconnection_server` long-poll protocol on the HTTP service, byte for byte.

A scripted client replays the exchanges of seed 000 (two native peerconnection clients and the
reference server) with raw sockets: HTTP/1.0 requests exactly as the native client writes them
(no Host header; POSTs with Content-Length and Content-Type: text/plain), and every status line,
header (names, values and order) and body byte of the answers compared with what the reference
server sends. Strowger differs from the reference only where docs/signaling.md says so: its own
Server header, ids from 1 on a fresh server, the connection closed after each response, 400 for
a POST the reference never answers, sign-out announced at once, and no /quit.
"""

import os
import re
import select
import socket
import time
import unittest

from harness import Server, run_tests

HERE = os.path.dirname(os.path.abspath(__file__))


def project_version():
    """The version in the top-level CMakeLists.txt: `project(strowger VERSION x.y.z ...)`."""
    with open(os.path.join(HERE, "..", "..", "CMakeLists.txt")) as f:
        match = re.search(r"project\(\s*strowger\s+VERSION\s+([0-9][0-9.]*)", f.read())
    assert match, "no `project(strowger VERSION ...)` in CMakeLists.txt"
    return match.group(1)


SERVER_HEADER = f"Server: Strowger/{project_version()}"
SORRY = b"<html><body>Sorry, not yet implemented</body></html>"
GONE = b"Peer most likely gone."

# The two native clients of seed 000.
ROOT = "root@tuyj-U11"
ADMIN = "Administrator@yourcomputer"


def expected(status, content_type="text/plain", body=b"", pragma=None):
    """A response as the reference server writes it, with Strowger's Server header."""
    lines = [f"HTTP/1.1 {status}", SERVER_HEADER, "Cache-Control: no-cache",
             "Connection: close"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    if pragma is not None:
        lines.append(f"Pragma: {pragma}")
    lines += ["Access-Control-Allow-Origin: *",
              "Access-Control-Allow-Credentials: true",
              "Access-Control-Allow-Methods: POST, GET, OPTIONS",
              "Access-Control-Allow-Headers: Content-Type, Content-Length, Connection, "
              "Cache-Control",
              "Access-Control-Expose-Headers: Content-Length, X-Peer-Id"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def members(*entries):
    """Sign-in / presence body: one `name,id,connected\\n` line per (name, id[, connected])."""
    return b"".join(f"{e[0]},{e[1]},{e[2] if len(e) > 2 else 1}\n".encode() for e in entries)


def get(path, version="1.0"):
    """A GET as the native client writes it (HTTP/1.0, no headers at all)."""
    return f"GET {path} HTTP/{version}\r\n\r\n".encode()


def post(path, body, content_type="text/plain"):
    """A POST as the native client writes it."""
    return (f"POST {path} HTTP/1.0\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + body


def jsoncpp(pairs):
    """A body as jsoncpp's StyledWriter (the native client's Conductor) writes it: three-space
    indent, ` : `, strings with \\r and \\n escaped, a newline at the end."""
    def value(v):
        if isinstance(v, int):
            return str(v)
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") \
                      .replace("\n", "\\n") + '"'
    inner = ",\n".join(f'   "{k}" : {value(v)}' for k, v in pairs)
    return ("{\n" + inner + "\n}\n").encode()


def sdp(origin, ufrag, pwd, audio_key, video_key, ssrc, cname):
    lines = ["v=0", f"o=- {origin} 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
             "a=group:BUNDLE audio video",
             "m=audio 1 RTP/SAVPF 103 104 0 8 106 105 13 126",
             "c=IN IP4 0.0.0.0", "a=rtcp:1 IN IP4 0.0.0.0", f"a=ice-ufrag:{ufrag}",
             f"a=ice-pwd:{pwd}", "a=ice-options:google-ice",
             "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=sendrecv",
             "a=mid:audio", "a=rtcp-mux",
             f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{audio_key}",
             "a=rtpmap:103 ISAC/16000", "a=rtpmap:104 ISAC/32000", "a=rtpmap:0 PCMU/8000",
             "a=rtpmap:8 PCMA/8000", "a=rtpmap:106 CN/32000", "a=rtpmap:105 CN/16000",
             "a=rtpmap:13 CN/8000", "a=rtpmap:126 telephone-event/8000",
             "m=video 1 RTP/SAVPF 100 116 117",
             "c=IN IP4 0.0.0.0", "a=rtcp:1 IN IP4 0.0.0.0", f"a=ice-ufrag:{ufrag}",
             f"a=ice-pwd:{pwd}", "a=ice-options:google-ice",
             "a=extmap:2 urn:ietf:params:rtp-hdrext:toffset", "a=sendrecv", "a=mid:video",
             "a=rtcp-mux", f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{video_key}",
             "a=rtpmap:100 VP8/90000", "a=rtpmap:116 red/90000", "a=rtpmap:117 ulpfec/90000",
             f"a=ssrc:{ssrc} cname:{cname}", f"a=ssrc:{ssrc} msid:stream_label video_label",
             f"a=ssrc:{ssrc} mslabel:stream_label", f"a=ssrc:{ssrc} label:video_label"]
    return "\r\n".join(lines) + "\r\n"


# Bodies modelled on seed 000: the offer of Administrator@yourcomputer, the answer of
# root@tuyj-U11, and their host candidates (the seed's Content-Lengths 154 and 155).
OFFER = jsoncpp([("sdp", sdp(7172432475398612521, "a2mB8K22XWu9T0PP", "ssD5E0iX8QvsB658hQA3JSjh",
                             "Xo4U8sNOZLSDK9k2rFM5JcxbXF7g3UT2ryULHv0n",
                             "pHpfdt7V+6NP7Bo283jpMyDQ5r7PkiPevlCRLUdo", 2340634945,
                             "gHl5c3Dbmx5sUmS9")),
                 ("type", "offer")])
ANSWER = jsoncpp([("sdp", sdp(3357420183049218390, "UKJ6d8AL160eBsLu", "8SuveNL+bnz2r3bsPXIlWoqj",
                              "9BFMvbeu2lP3CZ3OQy3RuQfA9rRw8E7rVYmC0vsE",
                              "m0CHAdJTI6CLv1oliG/Crup6bGNKuaMyzK3zdncR", 2819412108,
                              "cqRftzpB9KgiyQWe")),
                  ("type", "answer")])


def candidate(foundation, component, proto, priority, address, port, index, mid):
    return jsoncpp([("candidate", f"a=candidate:{foundation} {component} {proto} {priority} "
                                  f"{address} {port} typ host generation 0\r\n"),
                    ("sdpMLineIndex", index), ("sdpMid", mid)])


ADMIN_CANDIDATES = [candidate(3690773885, 1, "udp", 2113937151, "10.1.100.111", 4391, 0, "audio"),
                    candidate(3690773885, 2, "udp", 2113937151, "10.1.100.111", 4391, 0, "audio"),
                    candidate(3690773885, 1, "udp", 2113937151, "10.1.100.111", 4391, 1, "video"),
                    candidate(3690773885, 2, "udp", 2113937151, "10.1.100.111", 4391, 1, "video")]
ROOT_CANDIDATE = candidate(1911911926, 1, "udp", 2113937151, "10.1.100.113", 47936, 0, "audio")
ADMIN_TCP_CANDIDATE = candidate(2508145037, 1, "tcp", 1509957375, "10.1.100.111", 4399, 0,
                                "audio")
assert len(ADMIN_CANDIDATES[3]) == 154 and len(ROOT_CANDIDATE) == 155


class Exchange:
    """One request on its own TCP connection; the answer may come at once or much later (a
    parked /wait)."""

    def __init__(self, port, request, host="127.0.0.1"):
        self.request = request
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.sendall(request)
        self.data = b""
        self.closed = False

    def close(self):
        self.sock.close()

    def silent(self, seconds=0.3):
        """Whether nothing (not even a close) arrives for `seconds`."""
        return not select.select([self.sock], [], [], seconds)[0]

    def response(self, timeout=5.0, close_within=2.0):
        """The complete response; afterwards the server must close the connection. Bytes after
        the Content-Length stay in the result so that a comparison shows them."""
        deadline = time.monotonic() + timeout
        while True:
            head_end = self.data.find(b"\r\n\r\n")
            if head_end >= 0:
                match = re.search(rb"\r\nContent-Length: (\d+)\r\n", self.data[:head_end + 2])
                if match and len(self.data) >= head_end + 4 + int(match.group(1)):
                    break
            if not self._read(deadline):
                if self.closed:
                    break
                raise AssertionError(f"no complete response within {timeout}s to "
                                     f"{self.request[:80]!r}; got {self.data!r}")
        deadline = time.monotonic() + close_within
        while not self.closed:
            if not self._read(deadline):
                if not self.closed:
                    raise AssertionError(f"the server did not close the connection within "
                                         f"{close_within}s after answering "
                                         f"{self.request[:80]!r}")
        self.sock.close()
        return self.data

    def _read(self, deadline):
        """Reads once; False at the deadline or at EOF."""
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.data += chunk
        return True


class LongPollCase(unittest.TestCase):
    settings = ()

    def setUp(self):
        self.server = Server(*self.settings)
        self.server.__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.port = self.server.http_port
        self.open = []
        self.addCleanup(lambda: [e.close() for e in self.open])

    def send(self, request):
        exchange = Exchange(self.port, request)
        self.open.append(exchange)
        return exchange

    def exchange(self, request):
        return self.send(request).response()

    def assertResponse(self, actual, wanted, what=""):
        # Compared as text for a readable diff; latin-1 keeps every byte.
        self.assertEqual(actual.decode("latin-1"), wanted.decode("latin-1"), what)

    def assertParked(self, exchange, what="/wait"):
        if not exchange.silent():
            self.fail(f"{what} was answered although nothing was queued: "
                      f"{exchange.sock.recv(65536)!r}")

    def sign_in(self, name, peer_id, others=(), shown=None):
        """Signs `name` in (None: a /sign_in without a query), expecting `peer_id`, the name
        `shown` (default `name`) and `others` [(name, id)] as the other members (in any order
        after the new peer's own line)."""
        answer = self.exchange(get("/sign_in" if name is None else f"/sign_in?{name}"))
        body = answer.partition(b"\r\n\r\n")[2]
        lines = body.split(b"\n")
        own = members((shown or name, peer_id))
        self.assertTrue(body.startswith(own), f"sign-in body does not start with {own!r}: "
                                              f"{body!r}")
        self.assertEqual(sorted(lines[1:-1]), sorted(members(*others).split(b"\n")[:-1]),
                         f"other members in the sign-in body {body!r}")
        self.assertResponse(answer, expected("200 Added", body=body, pragma=peer_id))
        return answer

    def message(self, sender, to, body, content_type="text/plain"):
        self.assertResponse(self.exchange(post(f"/message?peer_id={sender}&to={to}", body,
                                               content_type)),
                            expected("200 OK"), f"POST of a message {sender} -> {to}")

    def delivered(self, exchange, sender, body, content_type="text/plain"):
        self.assertResponse(exchange.response(), expected("200 OK", content_type, body, sender),
                            f"delivery of a message from {sender}")

    def notified(self, exchange, receiver, name, peer_id, connected):
        self.assertResponse(exchange.response(),
                            expected("200 OK", body=members((name, peer_id, connected)),
                                     pragma=receiver),
                            f"notification {name},{peer_id},{connected} to {receiver}")


class Seed000Replay(LongPollCase):
    def test_two_native_clients_call_each_other(self):
        # root@tuyj-U11 signs in first and opens its hanging get.
        self.assertResponse(self.exchange(get(f"/sign_in?{ROOT}")),
                            expected("200 Added", body=members((ROOT, 1)), pragma=1))
        root_wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(root_wait)

        # Administrator@yourcomputer signs in: itself first, then root.
        self.assertResponse(self.exchange(get(f"/sign_in?{ADMIN}")),
                            expected("200 Added", body=members((ADMIN, 2), (ROOT, 1)),
                                     pragma=2))
        self.notified(root_wait, 1, ADMIN, 2, 1)
        admin_wait = self.send(get("/wait?peer_id=2"))
        root_wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(admin_wait)
        self.assertParked(root_wait)

        # Admin calls root: the offer goes at once to root's parked hanging get.
        self.message(2, 1, OFFER)
        self.delivered(root_wait, 2, OFFER)

        # Four candidates while root has no hanging get: queued, in order.
        for body in ADMIN_CANDIDATES:
            self.message(2, 1, body)
        for body in ADMIN_CANDIDATES[:3]:
            self.delivered(self.send(get("/wait?peer_id=1")), 2, body)

        # Root answers; admin's hanging get, parked since before the offer, gets it at once.
        self.message(1, 2, ANSWER)
        self.delivered(admin_wait, 1, ANSWER)
        self.delivered(self.send(get("/wait?peer_id=1")), 2, ADMIN_CANDIDATES[3])

        # Root's candidate waits for admin's next hanging get; root's own queue is empty.
        root_wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(root_wait)
        self.message(1, 2, ROOT_CANDIDATE)
        self.delivered(self.send(get("/wait?peer_id=2")), 1, ROOT_CANDIDATE)
        self.message(2, 1, ADMIN_TCP_CANDIDATE)
        self.delivered(root_wait, 2, ADMIN_TCP_CANDIDATE)

        # Admin hangs up (the 3-byte BYE), closes its hanging get, signs out.
        root_wait = self.send(get("/wait?peer_id=1"))
        admin_wait = self.send(get("/wait?peer_id=2"))
        self.assertParked(admin_wait)
        self.message(2, 1, b"BYE")
        self.delivered(root_wait, 2, b"BYE")
        root_wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(root_wait)
        admin_wait.close()
        self.assertResponse(self.exchange(get("/sign_out?peer_id=2")), expected("200 OK"))
        self.notified(root_wait, 1, ADMIN, 2, 0)

        # Admin is gone: messages to it are refused, its id is unknown.
        self.assertResponse(self.exchange(post("/message?peer_id=1&to=2", b"hello")),
                            expected("500 Error", body=GONE))
        self.assertResponse(self.exchange(get("/wait?peer_id=2")),
                            expected("500 Sorry", "text/html", SORRY))
        self.assertResponse(self.exchange(get("/sign_out?peer_id=1")), expected("200 OK"))
        self.assertResponse(self.exchange(get(f"/sign_in?{ADMIN}")),
                            expected("200 Added", body=members((ADMIN, 3)), pragma=3))


class Protocol(LongPollCase):
    def test_sign_in_lists_the_new_peer_first_then_everyone_else(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.sign_in("carol", 3, [("alice", 1), ("bob", 2)])
        # Each earlier member has the later sign-ins queued, in order, one per /wait.
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        self.notified(self.send(get("/wait?peer_id=1")), 1, "carol", 3, 1)
        self.notified(self.send(get("/wait?peer_id=2")), 2, "carol", 3, 1)
        for peer in (1, 2, 3):
            self.assertParked(self.send(get(f"/wait?peer_id={peer}")))

    def test_queued_messages_come_one_per_wait_with_the_senders_content_type(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        bodies = [(b'{"type":"offer","sdp":"v=0\\r\\n"}', "application/json"),
                  (b"second\r\nwith CRLF and \x00 NUL", "text/plain; charset=utf-8"),
                  (b"BYE", "text/plain")]
        for body, content_type in bodies:
            self.message(2, 1, body, content_type)
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        for body, content_type in bodies:
            self.delivered(self.send(get("/wait?peer_id=1")), 2, body, content_type)
        self.assertParked(self.send(get("/wait?peer_id=1")))

    def test_a_parked_wait_gets_a_message_at_once(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(wait, "alice's /wait")
        started = time.monotonic()
        self.message(2, 1, OFFER)
        self.delivered(wait, 2, OFFER)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_a_closed_wait_is_no_longer_parked(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(wait)
        wait.close()  # e.g. the native client's hanging get torn down
        time.sleep(0.3)
        # What comes next is queued, not written to the dead connection and lost.
        self.message(2, 1, OFFER)
        self.delivered(self.send(get("/wait?peer_id=1")), 2, OFFER)

    def test_a_post_whose_body_comes_in_a_later_segment(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        request = post("/message?peer_id=2&to=1", ANSWER)
        split = request.index(b"\r\n\r\n") + 4
        exchange = Exchange(self.port, request[:split])
        self.open.append(exchange)
        for part in (ANSWER[:100], ANSWER[100:1000], ANSWER[1000:]):
            time.sleep(0.15)
            exchange.sock.sendall(part)
        self.assertResponse(exchange.response(), expected("200 OK"))
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        self.delivered(self.send(get("/wait?peer_id=1")), 2, ANSWER)

    def test_a_name_with_utf8_bytes(self):
        # `$USERNAME@hostname` of a native client may hold any bytes; they come back as sent.
        name = "jürgen@straße-pc"
        answer = self.exchange(f"GET /sign_in?{name} HTTP/1.0\r\n\r\n".encode())
        self.assertResponse(answer, expected("200 Added", body=f"{name},1,1\n".encode(),
                                             pragma=1))
        self.sign_in("bob", 2, [(name, 1)])

    def test_large_message_is_relayed_verbatim(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        body = bytes(range(256)) * 256  # 64 KiB, every byte value
        self.message(1, 2, body, "application/octet-stream")
        self.delivered(self.send(get("/wait?peer_id=2")), 1, body, "application/octet-stream")

    def test_message_to_oneself_is_echoed_in_the_post_response(self):
        self.sign_in("alice", 1)
        self.assertResponse(self.exchange(post("/message?peer_id=1&to=1", b"loop",
                                               "application/json")),
                            expected("200 OK", "application/json", b"loop", 1))
        self.assertParked(self.send(get("/wait?peer_id=1")))

    def test_query_arguments_in_either_order(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.message(2, 1, b"one")
        self.assertResponse(self.exchange(post("/message?to=1&peer_id=2", b"two")),
                            expected("200 OK"))
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        self.delivered(self.send(get("/wait?peer_id=1")), 2, b"one")
        self.delivered(self.send(get("/wait?x=y&peer_id=1")), 2, b"two")

    def test_message_to_an_unknown_peer_or_from_an_unknown_sender(self):
        self.sign_in("alice", 1)
        for path in ("/message?peer_id=1&to=2", "/message?peer_id=1&to=0",
                     "/message?peer_id=7&to=1", "/message?peer_id=1&to=x"):
            self.assertResponse(self.exchange(post(path, b"{}")),
                                expected("500 Error", body=GONE), path)
        # Nothing was stored for anyone.
        self.sign_in("bob", 2, [("alice", 1)])
        self.assertParked(self.send(get("/wait?peer_id=2")))

    def test_unknown_id_on_wait_and_sign_out(self):
        self.sign_in("alice", 1)
        for path in ("/wait?peer_id=2", "/wait?peer_id=0", "/wait", "/sign_out?peer_id=5",
                     "/sign_out?peer_id=abc"):
            self.assertResponse(self.exchange(get(path)),
                                expected("500 Sorry", "text/html", SORRY), path)

    def test_options_preflight(self):
        self.sign_in("alice", 1)
        for path in ("/message?peer_id=1&to=2", "/sign_in?bob", "/wait?peer_id=1"):
            request = (f"OPTIONS {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                       "Origin: http://pages.example\r\nAccess-Control-Request-Method: POST\r\n"
                       "Access-Control-Request-Headers: content-type\r\n\r\n").encode()
            self.assertResponse(self.exchange(request), expected("200 OK", content_type=None),
                                path)
        self.assertResponse(self.exchange(b"OPTIONS /sign_in HTTP/1.0\r\n\r\n"),
                            expected("200 OK", content_type=None))
        # A preflight neither signs in nor consumes anything.
        self.sign_in("bob", 2, [("alice", 1)])

    def test_sign_out_announces_the_member_at_once(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.sign_in("carol", 3, [("alice", 1), ("bob", 2)])
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        self.notified(self.send(get("/wait?peer_id=1")), 1, "carol", 3, 1)
        alice_wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(alice_wait)
        self.message(1, 2, b"lost when bob leaves")
        # Bob signs out on a connection the server closes; the announcement does not wait for
        # any other socket event.
        started = time.monotonic()
        self.assertResponse(self.exchange(get("/sign_out?peer_id=2")), expected("200 OK"))
        self.notified(alice_wait, 1, "bob", 2, 0)
        self.assertLess(time.monotonic() - started, 1.0)
        # Carol has bob's arrival and departure queued, in order.
        self.notified(self.send(get("/wait?peer_id=3")), 3, "bob", 2, 0)
        self.assertResponse(self.exchange(post("/message?peer_id=1&to=2", b"x")),
                            expected("500 Error", body=GONE))
        self.assertResponse(self.exchange(get("/wait?peer_id=2")),
                            expected("500 Sorry", "text/html", SORRY))
        self.assertResponse(self.exchange(get("/sign_out?peer_id=2")),
                            expected("500 Sorry", "text/html", SORRY))
        self.sign_in("dave", 4, [("alice", 1), ("carol", 3)])

    def test_sign_out_with_a_parked_wait_of_its_own(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        alice_wait = self.send(get("/wait?peer_id=1"))
        bob_wait = self.send(get("/wait?peer_id=2"))
        self.assertParked(bob_wait)
        self.assertResponse(self.exchange(get("/sign_out?peer_id=2")), expected("200 OK"))
        self.notified(alice_wait, 1, "bob", 2, 0)
        bob_wait.close()
        self.sign_in("carol", 3, [("alice", 1)])

    def test_name_rules(self):
        long_name = "x" * 300 + "," + "y" * 300
        truncated = long_name[:512].replace(",", "_")
        # Commas become '_', so that the `name,id,connected` lines keep three fields.
        self.sign_in("a,b,,c", 1, shown="a_b__c")
        # An empty name, or none at all, becomes peer_<id>.
        self.sign_in("", 2, [("a_b__c", 1)], shown="peer_2")
        self.sign_in(None, 3, [("a_b__c", 1), ("peer_2", 2)], shown="peer_3")
        # The whole query string is the name, as sent: not URL-decoded.
        self.sign_in("%41%20b", 4, [("a_b__c", 1), ("peer_2", 2), ("peer_3", 3)])
        # Longer than 512 bytes: cut to 512.
        self.sign_in(long_name, 5, [("a_b__c", 1), ("peer_2", 2), ("peer_3", 3),
                                    ("%41%20b", 4)], shown=truncated)
        # The others are told the same names.
        for peer_id, name in ((2, "peer_2"), (3, "peer_3"), (4, "%41%20b"), (5, truncated)):
            self.notified(self.send(get("/wait?peer_id=1")), 1, name, peer_id, 1)
        self.assertParked(self.send(get("/wait?peer_id=1")))

    def test_ids_are_never_reused(self):
        self.sign_in("alice", 1)
        self.exchange(get("/sign_out?peer_id=1"))
        self.sign_in("alice", 2)
        self.sign_in("bob", 3, [("alice", 2)])
        self.exchange(get("/sign_out?peer_id=3"))
        self.exchange(get("/sign_out?peer_id=2"))
        self.sign_in("bob", 4)

    def test_http_1_1_requests(self):
        host = f"Host: 127.0.0.1:{self.port}\r\n"
        answer = self.exchange(f"GET /sign_in?alice HTTP/1.1\r\n{host}\r\n".encode())
        self.assertResponse(answer, expected("200 Added", body=members(("alice", 1)), pragma=1))
        answer = self.exchange(f"GET /sign_in?bob HTTP/1.1\r\n{host}Connection: keep-alive\r\n"
                               "Accept: */*\r\nOrigin: http://pages.example\r\n\r\n".encode())
        self.assertResponse(answer, expected("200 Added", body=members(("bob", 2), ("alice", 1)),
                                             pragma=2))
        wait = self.send(f"GET /wait?peer_id=1 HTTP/1.1\r\n{host}\r\n".encode())
        self.notified(wait, 1, "bob", 2, 1)
        wait = self.send(f"GET /wait?peer_id=1 HTTP/1.1\r\n{host}Connection: keep-alive\r\n\r\n"
                         .encode())
        self.assertParked(wait)
        body = b'{"type":"answer","sdp":"v=0\\r\\n"}'
        request = (f"POST /message?peer_id=2&to=1 HTTP/1.1\r\n{host}"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                   "Connection: keep-alive\r\n\r\n").encode() + body
        self.assertResponse(self.exchange(request), expected("200 OK"))
        self.delivered(wait, 2, body, "application/json")
        self.assertResponse(self.exchange(f"GET /sign_out?peer_id=2 HTTP/1.1\r\n{host}\r\n"
                                          .encode()), expected("200 OK"))

    def test_posts_the_reference_never_answers_get_400(self):
        self.sign_in("alice", 1)
        self.sign_in("bob", 2, [("alice", 1)])
        self.notified(self.send(get("/wait?peer_id=1")), 1, "bob", 2, 1)
        wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(wait)
        requests = [
            ("no Content-Type", rb"content-type",
             b"POST /message?peer_id=2&to=1 HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello"),
            ("Content-Length 0", rb"body|content-length|empty",
             b"POST /message?peer_id=2&to=1 HTTP/1.0\r\nContent-Length: 0\r\n"
             b"Content-Type: text/plain\r\n\r\n"),
            ("no Content-Length, no body", rb"body|content-length|empty",
             b"POST /message?peer_id=2&to=1 HTTP/1.0\r\nContent-Type: text/plain\r\n\r\n"),
            ("neither", rb"body|content-length|empty|content-type",
             b"POST /message?peer_id=2&to=1 HTTP/1.0\r\n\r\n"),
        ]
        for what, reason, request in requests:
            answer = self.exchange(request)
            body = answer.partition(b"\r\n\r\n")[2]
            self.assertResponse(answer, expected("400 Bad Request", body=body), what)
            self.assertTrue(body.strip(), f"{what}: the 400 names no problem")
            self.assertRegex(body.lower(), reason, what)
        # None of them was delivered.
        self.assertParked(wait)
        self.message(2, 1, b"fine")
        self.delivered(wait, 2, b"fine")

    def test_quit_is_not_offered(self):
        self.sign_in("alice", 1)
        wait = self.send(get("/wait?peer_id=1"))
        self.assertParked(wait)
        answer = self.exchange(get("/quit"))
        self.assertParked(wait, "alice's /wait after /quit")
        self.assertIsNone(self.server.proc.poll(), "the server exited after /quit")
        self.sign_in("bob", 2, [("alice", 1)])
        self.notified(wait, 1, "bob", 2, 1)
        # Like every answer of the long-poll service, with an HTTP/1.1 status line.
        self.assertTrue(answer.startswith(b"HTTP/1.1 404 "), answer)


class Liveness(LongPollCase):
    def test_a_member_without_a_wait_for_30_s_is_removed_and_announced(self):
        started = time.monotonic()
        self.sign_in(ROOT, 1)           # never opens a hanging get
        self.sign_in("dave", 2, [(ROOT, 1)])
        self.sign_in(ADMIN, 3, [(ROOT, 1), ("dave", 2)])
        admin_wait = self.send(get("/wait?peer_id=3"))  # parked for the whole test
        self.assertParked(admin_wait)
        self.notified(self.send(get("/wait?peer_id=2")), 2, ADMIN, 3, 1)
        dave_wait = self.send(get("/wait?peer_id=2"))
        self.assertParked(dave_wait)
        # After 20 s dave closes its hanging get: its 30 s clock starts only then.
        time.sleep(max(0.0, started + 20 - time.monotonic()))
        dave_wait.close()

        # The reference checks at most every 10 s: root is gone between 30 s and ~40 s.
        answer = admin_wait.response(timeout=max(1.0, started + 44 - time.monotonic()))
        elapsed = time.monotonic() - started
        self.assertResponse(answer, expected("200 OK", body=members((ROOT, 1, 0)), pragma=3),
                            "timeout announcement")
        self.assertGreaterEqual(elapsed, 29.5, "removed before 30 s without a hanging get")

        self.assertResponse(self.exchange(get("/wait?peer_id=1")),
                            expected("500 Sorry", "text/html", SORRY))
        self.assertResponse(self.exchange(post("/message?peer_id=3&to=1", b"x")),
                            expected("500 Error", body=GONE))
        # Admin, parked all along, and dave, whose clock restarted at 20 s, are still members.
        admin_wait = self.send(get("/wait?peer_id=3"))
        self.assertParked(admin_wait)
        self.sign_in("carol", 4, [("dave", 2), (ADMIN, 3)])
        self.notified(admin_wait, 3, "carol", 4, 1)


if __name__ == "__main__":
    run_tests()
