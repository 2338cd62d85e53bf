#!/usr/bin/env python3
"""Tells whether a SIP server answers on UDP: sends OPTIONS and waits for any SIP response.

Usage: sip_probe.py PORT [SECONDS]   (host 127.0.0.1; default 10 s)

Exit status 0 and the status line on stdout when something answered, 1 otherwise. Any response
counts, even an error: the question is only whether the server's SIP service is up. One request
every 200 ms, at most SECONDS long, so a dead port costs a bounded wait.
"""
import os
import socket
import sys
import time


def options(port: int, local_port: int, n: int) -> bytes:
    branch = f"z9hG4bK-probe-{os.getpid()}-{n}"
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@127.0.0.1>;tag=probe{os.getpid()}\r\n"
        f"To: <sip:127.0.0.1:{port}>\r\n"
        f"Call-ID: probe-{os.getpid()}-{n}@127.0.0.1\r\n"
        f"CSeq: {n} OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def main() -> int:
    port = int(sys.argv[1])
    deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        sock.sendto(options(port, sock.getsockname()[1], n), ("127.0.0.1", port))
        try:
            data = sock.recv(65535)
        except (socket.timeout, ConnectionRefusedError):
            # Refused: nothing listens yet (ICMP port unreachable); try again until the deadline.
            time.sleep(0.05)
            continue
        if data.startswith(b"SIP/2.0 "):
            print(data.split(b"\r\n", 1)[0].decode(errors="replace"))
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
