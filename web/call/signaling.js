// The /ws signaling connection (docs/signaling.md): one JSON object per text frame.
//
// Events (CustomEvent, message in `detail`): every server message type ("welcome",
// "peer-joined", "offer", ...), plus "open", "close" ({code, reason, willRetry}) and
// "retry" ({attempt, delayMs}).

const KEEPALIVE_MS = 25000;       // below the idle timeouts of common proxies
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];

export function signalingUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

// Close codes a person can act on; the rest are shown by number.
const CLOSE_REASONS = {
  1006: "the connection dropped",
  1008: "the server closed the connection: too many messages",
  1009: "the server closed the connection: a message was too large",
  1011: "the server hit an internal error",
  1012: "the server is restarting",
  1013: "the server is overloaded, try again later",
};

export function describeClose(code, reason) {
  return reason || CLOSE_REASONS[code] || `the connection closed (code ${code})`;
}

export class Signaling extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.socket = null;
    this.name = null;
    this.wanted = false;      // false after leave(): no reconnecting
    this.welcomed = false;    // reconnect only a session the server once accepted
    this.ready = false;       // the current socket got its "welcome"
    this.attempt = 0;
    this.retryTimer = null;
    this.keepaliveTimer = null;
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  // Opens the socket and announces `name`; "welcome" or "error" follows.
  join(name) {
    this.name = name;
    this.wanted = true;
    this.welcomed = false;
    this.attempt = 0;
    this.open();
  }

  leave() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.stopKeepalive();
    this.socket?.close(1000, "bye");
    this.socket = null;
  }

  // The server refused the name on a reconnect: the old connection is likely still
  // registered (the server has not noticed it died), so try again a little later.
  retryLater() {
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      this.stopKeepalive();
      socket.close(1000, "retrying");
    }
    this.scheduleRetry();
  }

  // Sends one message; false when the socket is not open (the caller tells the person).
  send(message) {
    if (!this.isOpen) {
      return false;
    }
    this.socket.send(JSON.stringify(message));
    return true;
  }

  open() {
    clearTimeout(this.retryTimer);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.ready = false;
    socket.addEventListener("open", () => {
      this.emit("open", {});
      socket.send(JSON.stringify({ type: "hello", name: this.name }));
      this.startKeepalive();
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) {
        return; // an old socket replaced by a newer one
      }
      this.socket = null;
      this.ready = false;
      this.stopKeepalive();
      const willRetry = this.wanted && this.welcomed;
      this.emit("close", { code: event.code, reason: event.reason, willRetry });
      if (willRetry) {
        this.scheduleRetry();
      }
    });
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("signaling: ignoring a frame that is not JSON", data);
      return;
    }
    if (!message || typeof message.type !== "string") {
      console.warn("signaling: ignoring a message without a type", message);
      return;
    }
    if (message.type === "welcome") {
      this.welcomed = true;
      this.ready = true;
      this.attempt = 0;
    }
    this.emit(message.type, message);
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const delayMs = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.emit("retry", { attempt: this.attempt, delayMs });
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }

  startKeepalive() {
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => this.send({ type: "ping" }), KEEPALIVE_MS);
  }

  stopKeepalive() {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
