"""A small Internet in network namespaces: a public segment and two LANs behind Linux NATs.

    client A 10.0.1.2 --- 10.0.1.1 [router A] 203.0.113.10 --+
                                                              +-- bridge 203.0.113.1 (server)
    client B 10.0.2.2 --- 10.0.2.1 [router B] 203.0.113.20 --+

Every name carries the creating process's id, so parallel runs never collide. Interfaces are
made directly inside their namespaces (never in the caller's), so deleting the namespaces
removes everything. Sockets are opened inside a namespace with `Lab.socket`: the calling thread
enters the namespace (setns) just long enough to create the socket, which stays there.
"""

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
PREFIX = "natlab-"

SERVER_IP = "203.0.113.1"
PUBLIC_PREFIX = 24

# name: (WAN address, LAN router address, LAN client address)
SITES = {
    "a": ("203.0.113.10", "10.0.1.1", "10.0.1.2"),
    "b": ("203.0.113.20", "10.0.2.1", "10.0.2.2"),
}

# Endpoint-independent mapping: Linux masquerade keeps the source port when it is free, so one
# local socket shows one public address:port to every destination.
EIM = "endpoint-independent"
# Address-and-port-dependent ("symmetric") mapping: a fresh random port per destination.
SYMMETRIC = "symmetric"

NAT_RULES = """
table ip nat
delete table ip nat
table ip nat {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan" masquerade{flags}
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "lan" oifname "wan" accept
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        # Unsolicited packets from outside are dropped before their conntrack entry is
        # confirmed: otherwise a hole-punching probe that arrives before the local client's own
        # probe left would occupy the tuple, and masquerade would pick another port for it.
        iifname "wan" ct state new drop
    }}
}}
"""

_libc = ctypes.CDLL(None, use_errno=True)


def run(*args, check=True, timeout=10, input=None):
    """Runs a command; a failure raises with its output."""
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, input=input)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {out.returncode}: "
                           f"{out.stdout}{out.stderr}")
    return out


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Deletes namespaces and temporary directories left by earlier runs whose process is gone
    (killed by SIGKILL, so nothing could tidy up)."""
    stale = re.compile(re.escape(PREFIX) + r"(\d+)-[\w-]+")
    for directory, remove in ((NETNS_DIR, lambda p: run("ip", "netns", "del",
                                                         os.path.basename(p), check=False)),
                              (tempfile.gettempdir(), lambda p: shutil.rmtree(
                                  p, ignore_errors=True))):
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            continue
        for name in names:
            m = stale.fullmatch(name)
            if m and not pid_alive(int(m.group(1))):
                remove(os.path.join(directory, name))


class Lab:
    """Builds the topology; `close()` (also run at exit and on SIGTERM/SIGINT) removes it."""

    def __init__(self):
        self.tag = f"{PREFIX}{os.getpid()}"
        self.public = f"{self.tag}-pub"
        self.routers = {site: f"{self.tag}-nat{site}" for site in SITES}
        self.clients = {site: f"{self.tag}-lan{site}" for site in SITES}
        self.created = []
        self.processes = []  # Popen objects this lab started, stopped by PID in close()
        self.directories = []  # temporary directories removed in close()
        self.closed = False
        self.modes = {}

    # ----- lifetime -----

    def __enter__(self):
        atexit.register(self.close)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        try:
            sweep_stale()
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _on_signal(self, signum, frame):
        # Tidy up, then die of the signal as if unhandled (unittest would catch SystemExit
        # and carry on with the next test).
        self.close()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.kill()  # by PID: only processes this lab started
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for name in reversed(self.created):
            run("ip", "netns", "del", name, check=False)
        self.created.clear()
        for path in self.directories:
            shutil.rmtree(path, ignore_errors=True)

    # ----- building -----

    def make_directory(self, kind):
        """A temporary directory removed in close() (or by a later run's sweep)."""
        path = tempfile.mkdtemp(prefix=f"{self.tag}-{kind}-")
        self.directories.append(path)
        return path

    def add_namespace(self, name):
        run("ip", "netns", "add", name)
        self.created.append(name)
        self.ip(name, "link", "set", "lo", "up")

    def ip(self, ns, *args):
        return run("ip", "-n", ns, *args)

    def sysctl(self, ns, setting):
        run("ip", "netns", "exec", ns, "sysctl", "-qw", setting)

    def build(self):
        pub = self.public
        self.add_namespace(pub)
        self.ip(pub, "link", "add", "br0", "type", "bridge")
        self.ip(pub, "addr", "add", f"{SERVER_IP}/{PUBLIC_PREFIX}", "dev", "br0")
        self.ip(pub, "link", "set", "br0", "up")
        for site, (wan, lan_router, lan_client) in SITES.items():
            router, client = self.routers[site], self.clients[site]
            self.add_namespace(router)
            self.add_namespace(client)
            # WAN: router's "wan" <-> a port of the public bridge.
            self.ip(router, "link", "add", "wan", "type", "veth", "peer", "name", f"port{site}",
                    "netns", pub)
            self.ip(pub, "link", "set", f"port{site}", "master", "br0", "up")
            self.ip(router, "addr", "add", f"{wan}/{PUBLIC_PREFIX}", "dev", "wan")
            self.ip(router, "link", "set", "wan", "up")
            # LAN: router's "lan" <-> client's "eth0".
            self.ip(router, "link", "add", "lan", "type", "veth", "peer", "name", "eth0",
                    "netns", client)
            self.ip(router, "addr", "add", f"{lan_router}/24", "dev", "lan")
            self.ip(router, "link", "set", "lan", "up")
            self.ip(client, "addr", "add", f"{lan_client}/24", "dev", "eth0")
            self.ip(client, "link", "set", "eth0", "up")
            self.ip(client, "route", "add", "default", "via", lan_router)
            self.sysctl(router, "net.ipv4.ip_forward=1")
            self.set_nat(site, EIM)

    def set_nat(self, site, mode):
        """Loads the router's NAT rules (atomically replacing any earlier ones)."""
        flags = " fully-random" if mode == SYMMETRIC else ""
        run("ip", "netns", "exec", self.routers[site], "nft", "-f", "-",
            input=NAT_RULES.format(flags=flags))
        self.modes[site] = mode

    def set_all_nats(self, mode):
        for site in SITES:
            self.set_nat(site, mode)

    # ----- using -----

    @contextlib.contextmanager
    def inside(self, ns):
        """The calling thread is in namespace `ns` for the duration of the block."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
            try:
                _setns(target)
                try:
                    yield
                finally:
                    _setns(home)
            finally:
                os.close(target)
        finally:
            os.close(home)

    def socket(self, ns, kind=socket.SOCK_DGRAM, bind=("0.0.0.0", 0)):
        """A socket that lives in namespace `ns`."""
        with self.inside(ns):
            s = socket.socket(socket.AF_INET, kind)
            try:
                if bind is not None:
                    s.bind(bind)
            except BaseException:
                s.close()
                raise
        return s

    def client_socket(self, site):
        return self.socket(self.clients[site])

    def spawn(self, ns, args, **popen):
        """Starts a process in `ns`; it dies with this process (PDEATHSIG) and in close()."""
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "setpriv", "--pdeathsig", "KILL",
                                 "--", *args], **popen)
        self.processes.append(proc)
        return proc

    def command_prefix(self, ns):
        """The command prefix that runs a program in `ns` and ties its life to this process."""
        return ["ip", "netns", "exec", ns, "setpriv", "--pdeathsig", "KILL", "--"]
