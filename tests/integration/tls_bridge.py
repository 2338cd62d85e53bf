"""A TLS client bridge for peers built without TLS (Debian's sipp): every TCP connection made to
the bridge's loopback port is carried over its own TLS connection to the server, which checks
nothing but sees a TLS client like any other. The server's certificate is verified against the
one the test knows (its data directory's self-signed cert.pem), with 127.0.0.1 as the name.

The bridge runs in a thread of the test process and relays bytes both ways until either side
closes; stop() closes everything it opened."""

import selectors
import socket
import ssl
import threading


class TlsBridge:
    def __init__(self, server_port, cafile, host="127.0.0.1"):
        self.server = (host, server_port)
        self.context = ssl.create_default_context(cafile=cafile)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.peer_of = {}
        self.closing = False
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.closing = True
        self.thread.join(timeout=5)
        for sock in list(self.peer_of):
            sock.close()
        self.listener.close()
        self.selector.close()

    def _accept(self):
        plain, _ = self.listener.accept()
        try:
            raw = socket.create_connection(self.server, timeout=5)
            secure = self.context.wrap_socket(raw, server_hostname=self.server[0])
        except (OSError, ssl.SSLError) as error:
            self.errors.append(f"TLS connection to {self.server}: {error!r}")
            plain.close()
            return
        secure.setblocking(False)
        plain.setblocking(False)
        self.peer_of[plain] = secure
        self.peer_of[secure] = plain
        self.selector.register(plain, selectors.EVENT_READ, None)
        self.selector.register(secure, selectors.EVENT_READ, None)

    def _close_pair(self, sock):
        other = self.peer_of.pop(sock, None)
        for s in (sock, other):
            if s is None:
                continue
            try:
                self.selector.unregister(s)
            except (KeyError, ValueError):
                pass
            self.peer_of.pop(s, None)
            s.close()

    def _relay(self, sock):
        while True:  # an SSL socket may hold decrypted bytes select() cannot see
            try:
                data = sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                return
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                self._close_pair(sock)
                return
            other = self.peer_of.get(sock)
            if other is None:
                return
            other.setblocking(True)
            try:
                other.sendall(data)
            except (OSError, ssl.SSLError):
                self._close_pair(sock)
                return
            finally:
                if other.fileno() >= 0:
                    other.setblocking(False)
            if not isinstance(sock, ssl.SSLSocket) or sock.pending() == 0:
                return

    def _run(self):
        while not self.closing:
            for key, _ in self.selector.select(timeout=0.1):
                if key.fileobj is self.listener:
                    self._accept()
                elif key.fileobj in self.peer_of:
                    self._relay(key.fileobj)
