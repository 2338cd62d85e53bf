#!/usr/bin/env python3
"""Registers USERS distinct accounts (bench0, bench1, ..., password pw-benchN) with a SIP
registrar over UDP at RATE new registrations per second, answering its digest challenges
(MD5, qop=auth), as a phone's first REGISTER does: REGISTER, 401, REGISTER with credentials,
200. With --plain, a registration is one REGISTER and its 200 (authentication off).

Usage: register_load.py PORT USERS RATE REALM [--plain] [--sockets N]

SIPp 3.6 cannot take the user name of [authentication] from an injection file (its parser
mangles the nested [field0]), so this small client plays it. It prints "ok N failed M seconds
S" and exits 0 when every registration got its 200. Bounded: each registration has 5 s, the
whole run USERS/RATE + 20 s, and there are no retransmissions (loopback does not lose).
"""
import hashlib
import os
import re
import selectors
import socket
import sys
import time


def main() -> int:
    port, users, rate, realm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    plain = "--plain" in sys.argv
    nsock = int(sys.argv[sys.argv.index("--sockets") + 1]) if "--sockets" in sys.argv else 8
    server = ("127.0.0.1", port)
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(nsock):  # several source ports, as several phones would have
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    tag = f"{os.getpid()}-{int(time.time())}"
    pending = {}  # call-id -> (index, socket, started)
    ok = failed = 0
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
    nonce_re = re.compile(rb'nonce="([^"]+)"')
    cid_re = re.compile(rb"(?im)^call-id:\s*(\S+)")
    status_re = re.compile(rb"^SIP/2\.0 (\d{3})")

    def register(i, s, cseq, authorization=""):
        name = f"bench{i}"
        local = s.getsockname()[1]
        auth = f"Authorization: {authorization}\r\n" if authorization else ""
        s.sendto((f"REGISTER sip:{realm} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{tag}-{i}-{cseq};rport\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:{name}@{realm}>;tag=r{i}\r\n"
                  f"To: <sip:{name}@{realm}>\r\nCall-ID: {tag}-{i}@127.0.0.1\r\n"
                  f"CSeq: {cseq} REGISTER\r\nContact: <sip:{name}@127.0.0.1:{local}>\r\n"
                  f"{auth}Expires: 3600\r\nUser-Agent: sip_auth\r\nContent-Length: 0\r\n\r\n").encode(),
                 server)

    start = time.monotonic()
    deadline = start + users / rate + 20
    sent = 0
    while (sent < users or pending) and time.monotonic() < deadline:
        now = time.monotonic()
        due = min(users, int((now - start) * rate) + 1)
        while sent < due:
            s = socks[sent % nsock]
            pending[f"{tag}-{sent}@127.0.0.1".encode()] = (sent, s, now)
            register(sent, s, 1)
            sent += 1
        for key, _ in sel.select(timeout=0.002):
            while True:
                try:
                    data = key.fileobj.recv(65535)
                except BlockingIOError:
                    break
                m = cid_re.search(data)
                st = status_re.match(data)
                if not m or not st or m.group(1) not in pending:
                    continue
                cid, code = m.group(1), int(st.group(1))
                i, s, _ = pending[cid]
                if code == 401 and not plain:
                    nonce = nonce_re.search(data).group(1).decode()
                    name, uri = f"bench{i}", f"sip:{realm}"
                    ha1 = md5(f"{name}:{realm}:pw-{name}")
                    response = md5(f"{ha1}:{nonce}:00000001:c{i}:auth:{md5(f'REGISTER:{uri}')}")
                    register(i, s, 2, f'Digest username="{name}", realm="{realm}", '
                             f'nonce="{nonce}", uri="{uri}", response="{response}", '
                             f'algorithm=MD5, cnonce="c{i}", qop=auth, nc=00000001')
                elif code == 200:
                    ok += 1
                    del pending[cid]
                elif code >= 300:
                    failed += 1
                    del pending[cid]
                    if failed == 1:
                        first_line = data.split(b"\r\n", 1)[0].decode(errors="replace")
                        print(f"first failure: {first_line}", file=sys.stderr)
        now = time.monotonic()
        for cid in [c for c, (_, _, t) in pending.items() if now - t > 5]:
            failed += 1
            del pending[cid]
    failed += len(pending) + (users - sent)
    print(f"ok {ok} failed {failed} seconds {time.monotonic() - start:.2f}")
    return 0 if ok == users else 1


if __name__ == "__main__":
    sys.exit(main())
