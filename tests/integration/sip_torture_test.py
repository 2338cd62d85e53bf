#!/usr/bin/env python3
"""Each RFC 4475 torture message, sent as one UDP datagram to a running server, gets the answer
RFC 3261 asks of a registrar and proxy that serves every domain and has no bindings yet:
requests for users 404, registrations 200, malformed requests 400 with a phrase naming the
defect, responses that match no transaction nothing at all. Every answer echoes Via, From, To,
Call-ID and CSeq (RFC 3261 §8.2.6), and the server survives the lot and stops cleanly.

Where the answer goes: the messages carry foreign Via sent-by hosts and no rport, so over UDP
the server answers the datagram's source address (the `received` address, 127.0.0.1) at the
port of the top Via's sent-by, 5060 when none is written (RFC 3261 §18.2.1, §18.2.2). So each
message is sent from a socket bound to 127.0.0.1 at that port, and the server never resolves or
sends to the hosts the messages name. Some top Vias name TCP, TLS or SCTP; the request still
came over UDP, where there is no connection to reuse, so the answer comes back over UDP too.
"""

import csv
import os
import re
import socket
import sys
import time
import unittest
from dataclasses import dataclass

from harness import Server, missing_requirement, run_tests

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sip", "rfc4475")
ANSWER_TIMEOUT = 2.0  # seconds to wait for the answer to one send (a busy CI box is slow)
SENDS = 3  # the first send and at most two more for UDP loss
DEFAULT_SIP_PORT = 5060
LOOPBACK = "127.0.0.1"

COMPACT_NAMES = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
                 "l": "content-length", "c": "content-type", "k": "supported"}
# sent-protocol and sent-by of a Via value (RFC 3261 §20.42); LWS may surround each '/' and ':'.
SENT_BY = re.compile(r"SIP\s*/\s*[^/\s]+\s*/\s*[^/\s;]+\s+(\[[^\]]*\]|[^\s:;]+)(?:\s*:\s*(\d+))?")


@dataclass(frozen=True)
class Expected:
    codes: frozenset  # acceptable status codes of the final answer; empty: no answer at all
    may_stay_silent: bool = False
    note: str = ""

    def __str__(self):
        if not self.codes:
            return "no answer"
        codes = sorted(self.codes)
        text = "/".join(map(str, codes))
        if len(codes) > 4:
            gaps = sorted(set(range(codes[0], codes[-1] + 1)) - self.codes)
            text = f"{codes[0]}..{codes[-1]}" + (f" but {gaps}" if gaps else "")
        return text + (" or no answer" if self.may_stay_silent else "")


def answer(*codes, silent_ok=False, note=""):
    return Expected(frozenset(codes), silent_ok, note)


SILENT = Expected(frozenset(), note="RFC 3261 §18.1.2: a response whose top Via is not ours "
                                    "is silently discarded, never forwarded")
ANY_4XX = range(400, 500)

# What each corpus file must get. "no binding" is RFC 3261 §16.5: the Request-URI names a user of
# a domain this element serves (all of them, by default) and the location service has nothing,
# so the resource does not exist here: 404.
EXPECTED = {
    # §3.1.1: valid messages
    "wsinv.dat": answer(404, note="odd LWS, folding and unknown headers are fine; no binding"),
    "intmeth.dat": answer(404, note="a proxy forwards unknown methods; no binding"),
    "esc01.dat": answer(404, note="user part is sips%3Auser%40example.com at example.net"),
    "escnull.dat": answer(200, note="registrar keeps %00 and %00%00 as two bindings"),
    "esc02.dat": answer(404, 405, 501, note="policy: RE%47IST%45R is an unknown method, not "
                        "REGISTER, for a URI without user: no binding, or refused as a UAS"),
    "lwsdisp.dat": answer(404, note="no binding"),
    "longreq.dat": answer(404, note="no binding; all 34 Via values echoed byte for byte"),
    "dblreq.dat": answer(200, note="the REGISTER only; the INVITE past Content-Length is dropped"),
    "semiuri.dat": answer(404, note="user part is user;par=u%40example.net; no binding"),
    "transports.dat": answer(404, note="no binding; the five Vias echoed"),
    "mpart01.dat": answer(404, note="no binding; its rport gets received and rport (RFC 3581)"),
    "unreason.dat": SILENT,
    "noreason.dat": SILENT,
    # §3.1.2: invalid messages
    "badinv01.dat": answer(400, silent_ok=True, note="its top Via is itself malformed, so "
                           "dropping the request is also right"),
    "clerr.dat": answer(400, note="Content-Length beyond the datagram"),
    "ncl.dat": answer(400, note="negative Content-Length"),
    "scalar02.dat": answer(400, note="CSeq beyond 2**32-1"),
    "scalarlg.dat": SILENT,
    "quotbal.dat": answer(400, note="unterminated quoted string"),
    "ltgtruri.dat": answer(400, note="Request-URI in <>"),
    "lwsruri.dat": answer(400, note="whitespace in the Request-URI"),
    "lwsstart.dat": answer(400, note="two SP between Request-Line elements"),
    "trws.dat": answer(400, note="SP at the end of the Request-Line"),
    "escruri.dat": answer(400, note="headers in the Request-URI"),
    "baddate.dat": answer(400, 404, note="a tolerant element may ignore Date; then no binding"),
    "regbadct.dat": answer(400, note="Contact with '?' outside <>"),
    "badaspec.dat": answer(400, note="spaces inside <>"),
    "baddn.dat": answer(400, note="unquoted ',' in display names (sent with its empty line)"),
    "badvers.dat": answer(505, note="SIP/7.0"),
    "mismatch01.dat": answer(400, note="CSeq method differs from the Request-Line's"),
    "mismatch02.dat": answer(400, note="mismatch is found before the unknown method"),
    "bigcode.dat": SILENT,
    # §3.2, §3.3: semantic tests
    "badbranch.dat": answer(400, 404, note="branch is a bare magic cookie: refused, or matched "
                            "the RFC 2543 way and then no binding"),
    "insuf.dat": answer(400, note="no To, From, Call-ID or Max-Forwards"),
    "unkscm.dat": answer(416, note="unknown Request-URI scheme"),
    "novelsc.dat": answer(416, note="soap.beep Request-URI"),
    "unksm2.dat": answer(*ANY_4XX, note="policy: a To of isbn: is no AOR the registrar serves"),
    "bext01.dat": answer(420, note="a proxy lists the Proxy-Require tags in Unsupported"),
    "invut.dat": answer(404, note="a proxy forwards unknown bodies; no binding"),
    "regaut01.dat": answer(200, 401, note="no authentication configured: 200; a registrar that "
                           "challenges says 401"),
    "multi01.dat": answer(400, note="two To, From, Call-ID, CSeq and Max-Forwards"),
    "mcl01.dat": answer(400, note="two Content-Length values"),
    "bcast.dat": SILENT,
    "zeromf.dat": answer(483, note="Max-Forwards 0 for a user: a proxy may not forward it"),
    "cparam01.dat": answer(200, note="the Contact's ;unknownparam is a header parameter"),
    "cparam02.dat": answer(200, note="the Contact's ;unknownparam is a URI parameter"),
    "regescrt.dat": answer(200, note="an escaped Route header in a Contact URI is legal"),
    "sdp01.dat": answer(404, note="a proxy ignores Accept; no binding"),
    # §3.4: RFC 2543 syntax is processed, not refused; no Max-Forwards does not mean 0
    "inv2543.dat": answer(*(c for c in ANY_4XX if c not in (400, 483)),
                          note="processed the RFC 2543 way; no binding (404 expected)"),
    # In the RFC's archive, not in its text: no SIP version, no Via, so nowhere to answer
    "test.dat": answer(400, silent_ok=True, note="no Via"),
}
# The archive's baddn.dat lacks the empty line that ends the header section; it is sent once
# with the line added (above) and once as archived.
UNTERMINATED_BADDN = "baddn.dat, as archived"
EXPECTED_UNTERMINATED_BADDN = answer(400, silent_ok=True, note="header section not terminated")
# The To of quotbal.dat never closes its quote, so a tag appended to it would sit inside it.
TO_TAG_NOT_REQUIRED = {"quotbal.dat"}
NO_ECHO_CHECK = {"badinv01.dat"}  # its Via list is what is malformed


def unfold(value):
    """A header value with folding (CRLF + whitespace) read as one SP, trimmed."""
    return re.sub(r"\r\n[ \t]+", " ", value).strip(" \t")


def scan_quotes(value):
    """Yields (index, character, inside a quoted string) for each character of `value`."""
    quoted = escaped = False
    for i, ch in enumerate(value):
        if not quoted:
            quoted = ch == '"'
            yield i, ch, quoted
            continue
        yield i, ch, True
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = False


def without_lws(value):
    """The value with whitespace outside quoted strings removed: RFC 3261 §7.3.1 makes LWS
    around separators insignificant, so two values that differ only there are equal."""
    return "".join(ch for _, ch, quoted in scan_quotes(value) if quoted or ch not in " \t\r\n")


def split_list(value):
    """The comma-separated items of a header value, ignoring commas in quotes and <>."""
    items, start, angle = [], 0, False
    for i, ch, quoted in scan_quotes(value):
        if quoted:
            continue
        if ch in "<>":
            angle = ch == "<"
        elif ch == "," and not angle:
            items.append(value[start:i].strip(" \t"))
            start = i + 1
    items.append(value[start:].strip(" \t"))
    return items


class SipMessage:
    """Start line and header fields of one SIP message. Latin-1 keeps every octet; header names
    are lower-cased long forms. Only the first message of a datagram is read."""

    def __init__(self, data):
        head = data.decode("latin-1").split("\r\n\r\n", 1)[0]
        lines = head.split("\r\n")
        self.start_line = lines[0]
        self.fields = []  # (name, raw value)
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.fields:
                name, value = self.fields[-1]
                self.fields[-1] = (name, value + "\r\n" + line)
            elif ":" in line:
                name, value = line.split(":", 1)
                name = name.strip(" \t").lower()
                self.fields.append((COMPACT_NAMES.get(name, name), value))
        parts = self.start_line.split(" ", 2)
        is_status = len(parts) >= 2 and parts[0].startswith("SIP/") and parts[1].isdigit()
        self.status = int(parts[1]) if is_status else None
        self.reason = parts[2] if is_status and len(parts) > 2 else ""

    def __repr__(self):
        return repr(self.start_line)

    def values(self, name):
        return [unfold(v) for n, v in self.fields if n == name]

    def list_values(self, name):
        return [item for v in self.values(name) for item in split_list(v)]

    def single(self, name):
        values = self.values(name)
        return values[0] if len(values) == 1 else None


def top_via(message):
    """(host, port, params as [(name, value)]) of the top Via, or None when it cannot be read."""
    vias = message.list_values("via")
    if not vias:
        return None
    sent_by, _, params = vias[0].partition(";")
    match = SENT_BY.fullmatch(sent_by.strip())
    if not match:
        return None
    port = int(match.group(2)) if match.group(2) else DEFAULT_SIP_PORT
    pairs = [(p.partition("=")[0].strip().lower(), p.partition("=")[2].strip())
             for p in without_lws(params).split(";") if params]
    return match.group(1), port, pairs


def contact_uris(message):
    """The URIs of the Contact values: inside <>, or up to the first ';' without them."""
    uris = []
    for item in message.list_values("contact"):
        if "<" in item and ">" in item:
            uris.append(item[item.index("<") + 1:item.index(">")])
        else:
            uris.append(item.split(";", 1)[0].strip())
    return uris


@dataclass
class Case:
    name: str
    data: bytes
    expected: Expected

    def __post_init__(self):
        self.request = SipMessage(self.data)
        via = top_via(self.request) if self.request.status is None else None
        self.via_port = via[1] if via else None  # None: sent from any port
        self.call_ids = set(self.request.values("call-id"))
        self.is_register = self.request.start_line.startswith("REGISTER ")


def load_cases():
    with open(os.path.join(CORPUS, "index.tsv"), newline="") as f:
        files = [row["file"] for row in csv.DictReader(f, delimiter="\t")]
    cases = []
    for file in files:
        with open(os.path.join(CORPUS, file), "rb") as f:
            data = f.read()
        if file == "baddn.dat":
            cases.append(Case(UNTERMINATED_BADDN, data, EXPECTED_UNTERMINATED_BADDN))
            data += b"\r\n"
        cases.append(Case(file, data, EXPECTED.get(file)))
    # regescrt binds sip:user@example.com, the Request-URI of most other messages; once bound,
    # the proxy would forward those to the binding instead of answering 404. So REGISTERs go last.
    return sorted(cases, key=lambda c: (c.is_register, c.name))


def bind_via_ports(ports):
    sockets = {}
    for port in sorted(ports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((LOOPBACK, port))
        except OSError as e:
            s.close()
            for held in sockets.values():
                held.close()
            message = (f"cannot bind UDP {LOOPBACK}:{port} ({e.strerror}); the torture messages'"
                       f" Via sent-by ports {sorted(ports)} must be free on loopback")
            missing_requirement(message)
        sockets[port] = s
    return sockets


def drain(sock):
    sock.setblocking(False)
    try:
        for _ in range(10_000):
            sock.recv(65535)
    except BlockingIOError:
        pass


def receive(sock, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    sock.settimeout(remaining)
    try:
        return sock.recvfrom(65535)
    except socket.timeout:
        return None


def exchange(sock, data, address, sends, belongs):
    """Sends `data` up to `sends` times, each time waiting ANSWER_TIMEOUT for a final answer
    that `belongs` to it. Returns (final answer or None, its source, everything that belonged)."""
    seen = []
    for _ in range(sends):
        sock.sendto(data, address)
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while (got := receive(sock, deadline)) is not None:
            response = SipMessage(got[0])
            if belongs(response):
                seen.append(response)
                if response.status != 100:
                    return response, got[1], seen
    return None, None, seen


def options_to_server(address, call_id):
    """The final answer to an OPTIONS whose Request-URI is the server itself, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        (host, port), local_port = address, s.getsockname()[1]
        options = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {LOOPBACK}:{local_port};branch=z9hG4bK-{call_id};rport\r\n"
                   "Max-Forwards: 70\r\n"
                   f"From: <sip:torture@{LOOPBACK}>;tag={call_id}\r\n"
                   f"To: <sip:{host}:{port}>\r\n"
                   f"Call-ID: {call_id}\r\n"
                   "CSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n").encode()
        return exchange(s, options, address, SENDS, lambda r: r.single("call-id") == call_id)[0]


class TortureCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cases = load_cases()
        ports = {c.via_port for c in cls.cases if c.via_port is not None}
        cls.via_sockets = bind_via_ports(ports)
        cls.known_call_ids = set().union(*(c.call_ids for c in cls.cases))
        cls.results = []
        # Several torture messages share a Via branch and sent-by, which makes them one
        # transaction in RFC 3261's eyes (§17.2.3). A short T1 ends each transaction
        # (Timer J = 64*T1) before the next message with the same branch is sent.
        cls.server = Server("sip.t1_ms=10")
        try:
            cls.server.__enter__()
            cls.server_address = (LOOPBACK, cls.server.sip_port)
            # A server that serves no SIP at all fails here once, not every file one timeout
            # apart.
            if options_to_server(cls.server_address, "before-the-torture-corpus") is None:
                raise AssertionError("no answer to an OPTIONS for the server itself, sent before "
                                     f"any torture message:\n{cls.server.output()}")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        for s in cls.via_sockets.values():
            s.close()
        if not cls.results:
            return
        print("\nRFC 4475 corpus over UDP (file: expected -> got):", file=sys.stderr)
        for name, expected, got in cls.results:
            print(f"  {name:24} {str(expected):22} -> {got}", file=sys.stderr)

    def belongs_to(self, case):
        # An INVITE's final answer is retransmitted until ACKed, which this test never does, so
        # answers to earlier messages may still arrive: they are told apart by Call-ID.
        def belongs(response):
            call_ids = set(response.values("call-id"))
            if case.call_ids:
                return bool(call_ids & case.call_ids)
            return not call_ids & self.known_call_ids
        return belongs

    def test_each_message_gets_its_rfc_answer(self):
        for case in self.cases:
            with self.subTest(file=case.name):
                self.check_case(case)
            if self.server.proc.poll() is not None:
                self.fail(f"server exited with {self.server.proc.returncode} after {case.name}:"
                          f"\n{self.server.output()}")

    def test_every_corpus_file_has_an_expectation(self):
        missing = [c.name for c in load_cases() if c.expected is None]
        self.assertEqual(missing, [], "corpus files with no expected answer in this test")

    def test_server_still_answers_and_stops_cleanly(self):
        # Runs after the corpus: unittest runs a class's tests in name order.
        self.assertIsNone(self.server.proc.poll(), self.server.output())
        response = options_to_server(self.server_address, "after-the-torture-corpus")
        self.assertIsNotNone(response, "no answer to an OPTIONS for the server itself")
        self.assertEqual(response.status, 200, response.start_line)
        code, _ = self.server.stop()
        self.assertEqual(code, 0, self.server.output())

    def check_case(self, case):
        expected = case.expected
        self.assertIsNotNone(expected, f"{case.name}: no expected answer written for this file")
        fresh = case.via_port is None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if fresh \
            else self.via_sockets[case.via_port]
        try:
            if fresh:
                sock.bind((LOOPBACK, 0))
            drain(sock)
            sends = SENDS if expected.codes else 1
            belongs = (lambda response: True) if fresh else self.belongs_to(case)
            response, source, seen = exchange(sock, case.data, self.server_address, sends,
                                              belongs)
            if response is not None and case.name == "dblreq.dat":
                seen += self.late_datagrams(sock, case)
        finally:
            if fresh:
                sock.close()
        got = response.start_line if response else "no answer"
        self.results.append((case.name, expected, got))
        what = f"{case.name}: expected {expected} ({expected.note}), got {got!r}"
        if not expected.codes:
            self.assertEqual(seen, [], what)
            return
        if response is None:
            if not expected.may_stay_silent:
                self.fail(what)
            return
        if response.status not in expected.codes:
            self.fail(what)
        self.assertEqual(source, self.server_address, f"{case.name}: answered from {source}")
        if response.status == 400:
            # RFC 3261 §21.4.1 lets the phrase say what is wrong; a bare "Bad Request" does not.
            self.assertNotIn(response.reason.strip().lower(), ("", "bad request"),
                             f"{case.name}: the 400's reason phrase names no defect: {got!r}")
        if case.name not in NO_ECHO_CHECK:
            self.assertEqual(self.echo_defects(case, response), [], f"{case.name}: {got!r}")
        extra_check = getattr(self, "check_" + case.name.split(".")[0], None)
        if extra_check:
            extra_check(case, response, seen)

    def late_datagrams(self, sock, case):
        """Everything about `case` that arrives within ANSWER_TIMEOUT after its answer."""
        others = self.known_call_ids - case.call_ids
        late, deadline = [], time.monotonic() + ANSWER_TIMEOUT
        while (got := receive(sock, deadline)) is not None:
            message = SipMessage(got[0])
            if not set(message.values("call-id")) & others:
                late.append(message)
        return late

    def echo_defects(self, case, response):
        """How the answer fails to copy Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2)."""
        request, defects = case.request, []
        sent, echoed = request.list_values("via"), response.list_values("via")
        if sent and len(sent) != len(echoed):
            return [f"Via values {echoed} for {sent}"]
        if sent:
            defects += self.top_via_defects(case, response)
        for i, (a, b) in enumerate(zip(sent[1:], echoed[1:]), start=2):
            if without_lws(a) != without_lws(b):
                defects.append(f"Via #{i} {b!r} for {a!r}")
        for name in ("from", "to"):
            mine, theirs = request.single(name), response.single(name)
            if mine is not None and not self.echoes(case, name, without_lws(mine),
                                                    without_lws(theirs or "")):
                defects.append(f"{name} {theirs!r} for {mine!r}")
        call_id = request.single("call-id")
        if call_id is not None and response.single("call-id") != call_id:
            defects.append(f"Call-ID {response.single('call-id')!r} for {call_id!r}")
        cseq = request.single("cseq")
        if cseq is not None and not same_cseq(cseq, response.single("cseq") or ""):
            defects.append(f"CSeq {response.single('cseq')!r} for {cseq!r}")
        return defects

    @staticmethod
    def echoes(case, name, mine, theirs):
        if name == "from" or re.search(r";tag=", mine, re.I):
            return mine == theirs
        # §8.2.6.2: a UAS adds a tag to a To without one, in every answer but a 100.
        suffix = theirs[len(mine):]
        tagged = suffix.startswith(";") and re.search(r";tag=[^;]+", suffix, re.I)
        return theirs.startswith(mine) and (tagged or case.name in TO_TAG_NOT_REQUIRED)

    def top_via_defects(self, case, response):
        """§18.2.1: the top Via comes back with received=<source address> added when the
        sent-by host is not that address; RFC 3581 §4: with rport=<source port> when asked."""
        sent_top, echoed_top = case.request.list_values("via")[0], response.list_values("via")[0]
        sent, echoed = top_via(case.request), top_via(response)
        if sent is None:
            return []
        if echoed is None or without_lws(sent_top.partition(";")[0]) != without_lws(
                echoed_top.partition(";")[0]):
            return [f"top Via {echoed_top!r} for {sent_top!r}"]
        host, source_port, sent_params = sent
        echoed_params = dict(echoed[2])
        wants_rport = ("rport", "") in sent_params
        defects = []
        if (host != LOOPBACK or wants_rport) and echoed_params.get("received") != LOOPBACK:
            defects.append(f"top Via {echoed_top!r} lacks received={LOOPBACK}")
        if wants_rport and echoed_params.get("rport") != str(source_port):
            defects.append(f"top Via {echoed_top!r} lacks rport={source_port}")
        added = ("received", "rport")
        if [p for p in echoed[2] if p[0] not in added] != [p for p in sent_params
                                                          if p[0] not in added]:
            defects.append(f"top Via parameters of {echoed_top!r} for {sent_top!r}")
        return defects

    # Checks particular to one file, found by name: check_<file without .dat>.

    def check_longreq(self, case, response, seen):
        sent, echoed = case.request.list_values("via"), response.list_values("via")
        self.assertEqual(len(sent), 34)
        self.assertEqual(echoed[0], f"{sent[0]};received={LOOPBACK}", "longreq: top Via")
        self.assertEqual(echoed[1:], sent[1:], "longreq: Via values 2..34 are not byte-exact")

    def check_dblreq(self, case, response, seen):
        invite = SipMessage(case.data.split(b"\r\n\r\n", 1)[1].lstrip(b"\r\n"))
        self.assertTrue(invite.start_line.startswith("INVITE "), invite.start_line)
        invite_call_id = invite.single("call-id")
        about_invite = [m.start_line for m in seen if m.single("call-id") == invite_call_id]
        self.assertEqual(about_invite, [], "dblreq: the INVITE after the REGISTER was answered")
        finals = [m.start_line for m in seen if m.status != 100]
        self.assertEqual(len(finals), 1, f"dblreq: one answer to one REGISTER, got {finals}")

    def check_escnull(self, case, response, seen):
        uris = contact_uris(response)
        # RFC 4475 §3.1.1.4: a decoded NUL ends nothing, so these are two bindings.
        for uri in ("sip:%00@host5.example.com", "sip:%00%00@host5.example.com"):
            self.assertIn(uri, uris, "escnull: %00 and %00%00 must stay two bindings")

    def check_cparam01(self, case, response, seen):
        # RFC 4475 §3.3.12: outside <> the parameter belongs to the header, not to the URI.
        self.assertIn("sip:+19725552222@gw1.example.net", contact_uris(response), "cparam01")

    def check_regescrt(self, case, response, seen):
        self.assertIn("sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                      contact_uris(response), "regescrt: the binding keeps its escaped header")

    def check_bext01(self, case, response, seen):
        # RFC 3261 §16.3 step 5: a proxy lists what Proxy-Require asks for and it lacks; Require
        # is for the UAS to judge.
        unsupported = {tag for tag in response.list_values("unsupported") if tag}
        self.assertEqual(unsupported, {"noProxiesSupportThis", "norDoAnyProxiesSupportThis"},
                         "bext01: Unsupported")


def same_cseq(sent, echoed):
    a, b = sent.split(), echoed.split()
    if len(a) != 2 or len(b) != 2:
        return without_lws(sent) == without_lws(echoed)
    numbers_equal = int(a[0]) == int(b[0]) if a[0].isdigit() and b[0].isdigit() else a[0] == b[0]
    return numbers_equal and a[1] == b[1]


if __name__ == "__main__":
    run_tests()
