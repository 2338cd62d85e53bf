#!/usr/bin/env python3
"""One bounded turnutils_uclient run against a TURN server, measured.

Usage: uclient_run.py --server-pid PID [--timeout S] [--window S] -- UCLIENT_ARGS...

Runs `turnutils_uclient UCLIENT_ARGS...` (under `stdbuf -oL` when there is one), reads its
output line by line and stamps each line with this process's monotonic clock. turnutils_uclient
first sets up every allocation (then idles about 0.1 s per client: its own pacing), prints
"Total connect time", and only then starts sending; the relay phase is measured from that
line to the client's exit. Prints one line of key=value figures:

  sent, received, lost     the client's totals (messages sent to the peer through the relay,
                           echoes received back through it, sent - received)
  relayed                  2 * received: each echoed message crossed the relay twice, client
                           to peer and peer to client; a lower bound when some were lost
  cpu_ticks                the server's utime + stime (/proc/PID/stat) over the relay phase
  relay_s, connect_s       lengths of the relay phase and of the set-up before it
  peak_pps                 the highest rate of relayed packets (2 * received per second) over
                           any WINDOW seconds of the relay phase, from the client's per-second
                           progress lines and this process's clock
  client_ticks             turnutils_uclient's own CPU over the relay phase
  rc                       turnutils_uclient's exit status (124: killed at the timeout)
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

PROGRESS = re.compile(r"start_mclient: msz=\d+, tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")
TOTALS = re.compile(r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")


def ticks(pid):
    """utime + stime of a process (all its threads, including exited ones), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def peak_rate(samples, window):
    """Highest (v_j - v_i) / (t_j - t_i) with t_j - t_i >= window, each i with its first j."""
    best = 0.0
    j = 0
    for i, (ti, vi) in enumerate(samples):
        j = max(j, i + 1)
        while j < len(samples) and samples[j][0] - ti < window:
            j += 1
        if j >= len(samples):
            break
        tj, vj = samples[j]
        best = max(best, (vj - vi) / (tj - ti))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--log", help="copy of the client's output")
    ap.add_argument("uclient_args", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    uargs = args.uclient_args[1:] if args.uclient_args[:1] == ["--"] else args.uclient_args

    cmd = ["turnutils_uclient", *uargs]
    if shutil.which("stdbuf"):
        cmd = ["stdbuf", "-oL", *cmd]
    log = open(args.log, "w") if args.log else None
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace")
    timed_out = threading.Event()
    finished = threading.Event()

    def kill_at_timeout():
        if finished.wait(args.timeout):
            return
        timed_out.set()
        proc.kill()  # our own child, by its PID

    watchdog = threading.Thread(target=kill_at_timeout, daemon=True)
    watchdog.start()

    t_connect = None
    cpu0 = client0 = None
    samples = []  # (time, 2 * received) during the relay phase
    sent = received = None
    for line in proc.stdout:
        now = time.monotonic()
        if log:
            log.write(line)
        if t_connect is None and "Total connect time" in line:
            t_connect = now
            cpu0 = ticks(args.server_pid)
            client0 = ticks(proc.pid)
            samples.append((now, 0))
            continue
        m = PROGRESS.search(line)
        if m and t_connect is not None:
            samples.append((now, 2 * int(m.group(2))))
            client1 = ticks(proc.pid)  # the client is still alive here
            continue
        m = TOTALS.search(line)
        if m:
            sent, received = int(m.group(1)), int(m.group(2))
            t_end = now
            cpu1 = ticks(args.server_pid)
            client1 = ticks(proc.pid)
    rc = proc.wait()
    finished.set()
    if log:
        log.close()
    if timed_out.is_set():
        rc = 124
    if t_connect is None or sent is None or cpu0 is None or cpu1 is None:
        print(f"rc={rc} error=no-totals")
        return 1
    samples.append((t_end, 2 * received))
    out = {
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "relayed": 2 * received,
        "cpu_ticks": cpu1 - cpu0,
        "relay_s": f"{t_end - t_connect:.2f}",
        "connect_s": f"{t_connect - start:.2f}",
        "peak_pps": f"{peak_rate(samples, args.window):.0f}",
        "client_ticks": (client1 - client0) if client0 is not None and client1 is not None else -1,
        "rc": rc,
    }
    print(" ".join(f"{k}={v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
