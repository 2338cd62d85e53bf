#!/usr/bin/env python3
"""Opens COUNT idle secure connections to a SIP server and holds them, for memory per
connection: "tls" completes a TLS handshake (SIP over TLS, RFC 3261 §26); "wss" also completes
the WebSocket upgrade with the "sip" subprotocol (RFC 7118). Nothing is sent after that.

Usage: idle_secure.py PORT COUNT tls|wss [HOLD_SECONDS]   (host 127.0.0.1; default hold 60 s)

Prints "open N" once N connections are up (N < COUNT when some failed, with the first error on
stderr), then holds them until HOLD_SECONDS pass or stdin closes, whichever is first; every
connection is closed on exit. Connections are opened one after another with a 5 s timeout each,
so the run is bounded.
"""
import base64
import os
import select
import socket
import ssl
import sys
import time


def main() -> int:
    port, count, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    hold = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    held, first_error = [], None
    deadline = time.monotonic() + 120
    for _ in range(count):
        if time.monotonic() > deadline:
            first_error = first_error or "gave up opening after 120 s"
            break
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn = context.wrap_socket(raw, server_hostname="127.0.0.1")
            if mode == "wss":
                key = base64.b64encode(os.urandom(16)).decode()
                conn.sendall((f"GET /sip HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: sip\r\n\r\n").encode())
                answer = b""
                while b"\r\n\r\n" not in answer:
                    chunk = conn.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed during the upgrade")
                    answer += chunk
                if not answer.startswith(b"HTTP/1.1 101"):
                    raise ConnectionError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
            held.append(conn)
        except (OSError, ssl.SSLError) as error:
            first_error = first_error or repr(error)
    if first_error:
        print(f"first error: {first_error}", file=sys.stderr)
    print(f"open {len(held)}", flush=True)
    end = time.monotonic() + hold
    while time.monotonic() < end:
        ready, _, _ = select.select([sys.stdin], [], [], max(0.0, min(1.0, end - time.monotonic())))
        if ready and not sys.stdin.readline():
            break
    for conn in held:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
