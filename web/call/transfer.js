// File transfer over an ordered, reliable RTCDataChannel.
//
// On the wire, per file: a JSON text message {kind: "start", id, name, size, mime}, the bytes
// as binary messages of CHUNK_BYTES, then {kind: "end", id, sha256}. The receiver hashes what
// arrived and answers {kind: "result", id, ok, sha256}, so both sides can show "verified".

// Well below the 256 KiB a=max-message-size of Chromium and Safari (Firefox takes more), and
// four times fewer messages than the 16 KiB once advised for old browsers.
export const CHUNK_BYTES = 64 * 1024;
// Stop queueing above HIGH_WATER bytes and resume at LOW_WATER: the channel never holds more
// than about a megabyte (Chromium closes a channel whose send queue passes 16 MiB).
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
// The whole file is held in memory to hash it (crypto.subtle.digest does not stream).
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

export async function sha256Hex(data) {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// One transfer, as the page shows it. `status`: "sending", "receiving", "checking",
// "verified", "mismatch" or "failed".
export class Transfer extends EventTarget {
  constructor({ id, direction, name, size, mime }) {
    super();
    Object.assign(this, { id, direction, name, size, mime });
    this.bytes = 0;
    this.status = direction === "out" ? "sending" : "receiving";
    this.sha256 = null;          // the sender's hash of the file
    this.receivedSha256 = null;  // the receiver's hash of what arrived
    this.url = null;             // object URL of a received file
    this.error = null;
    this.startedAt = performance.now();
    this.finishedAt = null;
  }

  update(fields) {
    Object.assign(this, fields);
    if (["verified", "mismatch", "failed"].includes(this.status) && this.finishedAt === null) {
      this.finishedAt = performance.now();
    }
    this.dispatchEvent(new Event("change"));
  }

  get done() {
    return this.finishedAt !== null;
  }

  snapshot() {
    const { id, direction, name, size, mime, bytes, status, sha256, receivedSha256, error } = this;
    const ms = this.done ? Math.round(this.finishedAt - this.startedAt) : null;
    return { id, direction, name, size, mime, bytes, status, sha256, receivedSha256, error, ms };
  }
}

// Both directions of one channel. `onTransfer(transfer)` is told of each new transfer.
export class FileChannel {
  constructor(channel, onTransfer) {
    this.channel = channel;
    this.onTransfer = onTransfer;
    this.nextId = 1;
    this.queue = Promise.resolve();  // files go one after another
    this.outgoing = new Map();       // id -> Transfer awaiting its result
    this.incoming = null;            // { transfer, chunks }
    channel.binaryType = "arraybuffer";
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener("message", (event) => this.receive(event.data));
    channel.addEventListener("close", () => this.failAll("the connection closed"));
  }

  // Queues `file` (a File or Blob with a name) for sending; returns its Transfer at once.
  send(file) {
    const transfer = new Transfer({
      id: this.nextId++, direction: "out", name: file.name || "file",
      size: file.size, mime: file.type || "application/octet-stream",
    });
    this.onTransfer(transfer);
    if (file.size > MAX_FILE_BYTES) {
      transfer.update({ status: "failed", error: `larger than ${MAX_FILE_BYTES >> 20} MiB` });
      return transfer;
    }
    this.queue = this.queue.then(() => this.sendNow(file, transfer)).catch((err) => {
      console.error("file send failed", err);
      transfer.update({ status: "failed", error: String(err.message || err) });
    });
    return transfer;
  }

  async sendNow(file, transfer) {
    const data = await file.arrayBuffer();
    // Hash while the bytes go out; the hash travels after them.
    const hashing = sha256Hex(data);
    this.outgoing.set(transfer.id, transfer);
    this.sendJson({ kind: "start", id: transfer.id, name: transfer.name,
                    size: transfer.size, mime: transfer.mime });
    for (let offset = 0; offset < data.byteLength; offset += CHUNK_BYTES) {
      await this.roomToSend();
      this.channel.send(data.slice(offset, offset + CHUNK_BYTES));
      transfer.update({ bytes: Math.min(offset + CHUNK_BYTES, data.byteLength) });
    }
    const sha256 = await hashing;
    transfer.update({ sha256, status: "checking" });
    this.sendJson({ kind: "end", id: transfer.id, sha256 });
  }

  // Resolves when the channel's send queue is below HIGH_WATER (backpressure).
  roomToSend() {
    if (this.channel.readyState !== "open") {
      return Promise.reject(new Error("the data channel is not open"));
    }
    if (this.channel.bufferedAmount <= HIGH_WATER) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        this.channel.removeEventListener("bufferedamountlow", done);
        this.channel.removeEventListener("close", done);
        if (this.channel.readyState === "open") {
          resolve();
        } else {
          reject(new Error("the data channel closed"));
        }
      };
      this.channel.addEventListener("bufferedamountlow", done);
      this.channel.addEventListener("close", done);
    });
  }

  sendJson(message) {
    this.channel.send(JSON.stringify(message));
  }

  receive(data) {
    if (typeof data !== "string") {
      this.receiveChunk(data);
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("file channel: ignoring a text message that is not JSON");
      return;
    }
    if (message.kind === "start") {
      this.receiveStart(message);
    } else if (message.kind === "end") {
      this.receiveEnd(message);
    } else if (message.kind === "result") {
      this.receiveResult(message);
    }
  }

  receiveStart({ id, name, size, mime }) {
    if (this.incoming) {
      this.incoming.transfer.update({ status: "failed", error: "interrupted by the next file" });
    }
    const transfer = new Transfer({
      id, direction: "in", name: String(name || "file"),
      size: Number(size) || 0, mime: String(mime || "application/octet-stream"),
    });
    this.incoming = { transfer, chunks: [] };
    this.onTransfer(transfer);
  }

  receiveChunk(chunk) {
    if (!this.incoming) {
      console.warn("file channel: bytes outside a transfer");
      return;
    }
    const { transfer, chunks } = this.incoming;
    if (transfer.bytes + chunk.byteLength > transfer.size) {
      // More than announced: not the file the sender described, and maybe no end to it.
      transfer.update({ status: "mismatch", error: "more bytes than announced" });
      this.incoming = null;
      return;
    }
    chunks.push(chunk);
    transfer.update({ bytes: transfer.bytes + chunk.byteLength });
  }

  async receiveEnd({ id, sha256 }) {
    const incoming = this.incoming;
    if (!incoming || incoming.transfer.id !== id) {
      return;
    }
    this.incoming = null;
    const { transfer, chunks } = incoming;
    transfer.update({ status: "checking", sha256: String(sha256 || "") });
    const blob = new Blob(chunks, { type: transfer.mime });
    const receivedSha256 = await sha256Hex(await blob.arrayBuffer());
    const ok = transfer.bytes === transfer.size && receivedSha256 === transfer.sha256;
    transfer.update({
      receivedSha256, url: URL.createObjectURL(blob),
      status: ok ? "verified" : "mismatch",
    });
    if (this.channel.readyState === "open") {
      this.sendJson({ kind: "result", id, ok, sha256: receivedSha256 });
    }
  }

  receiveResult({ id, ok, sha256 }) {
    const transfer = this.outgoing.get(id);
    if (!transfer) {
      return;
    }
    this.outgoing.delete(id);
    const verified = ok === true && sha256 === transfer.sha256;
    transfer.update({ receivedSha256: String(sha256 || ""),
                      status: verified ? "verified" : "mismatch" });
  }

  failAll(reason) {
    for (const transfer of this.outgoing.values()) {
      if (!transfer.done) {
        transfer.update({ status: "failed", error: reason });
      }
    }
    this.outgoing.clear();
    if (this.incoming) {
      this.incoming.transfer.update({ status: "failed", error: reason });
      this.incoming = null;
    }
  }
}
