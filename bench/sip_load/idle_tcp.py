#!/usr/bin/env python3
"""Opens COUNT idle TCP connections to 127.0.0.1:PORT and holds them, for the memory test.

Usage: idle_tcp.py PORT COUNT HOLD_SECONDS READY_FILE

Connects one at a time (a blocking connect paces itself on the server's accept queue), then
writes the number of open connections to READY_FILE and holds them, sending nothing, until
HOLD_SECONDS have passed or it gets SIGTERM. Every socket has SO_LINGER 0, so the close at exit
is a reset: tens of thousands of client ports are not left in TIME_WAIT for the next run.
Connecting stops early at a deadline of HOLD_SECONDS / 2 or at the first failure; the count
written is what was really opened, and the exit status is 1 when it is short of COUNT.
"""
import os
import resource
import signal
import socket
import struct
import sys
import time


def main() -> int:
    port, count, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    ready_file = sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    # SIGTERM ends the hold; the default handler would do too, but this lets the sockets close
    # through the normal exit path.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    start = time.monotonic()
    connect_deadline = start + hold / 2
    linger_reset = struct.pack("ii", 1, 0)
    conns = []
    error = ""
    while len(conns) < count and time.monotonic() < connect_deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_reset)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            s.close()
            error = str(e)
            break
        conns.append(s)
    with open(ready_file + ".tmp", "w") as f:
        f.write(f"{len(conns)}\n")
    # Renamed into place so the reader never sees a half-written file.
    os.replace(ready_file + ".tmp", ready_file)
    if len(conns) < count:
        print(f"idle_tcp: opened {len(conns)} of {count} connections"
              f"{': ' + error if error else ''}", file=sys.stderr)
    remaining = start + hold - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    return 0 if len(conns) == count else 1


if __name__ == "__main__":
    sys.exit(main())
