// One call's RTCPeerConnection: media, the chat and file data channels, and the
// offer/answer/candidate exchange. It knows nothing of the page; it reports through events.
//
// Events: "track" ({stream}), "state" ({connectionState}), "chat" ({text, at}),
// "chat-open", "transfer" ({transfer}).

import { FileChannel } from "./transfer.js";

// Both sides create the channels with fixed ids ("negotiated"), so neither has to wait for
// the other's datachannel event and the roles stay symmetric.
const CHAT_CHANNEL = { id: 0, label: "chat" };
const FILE_CHANNEL = { id: 1, label: "file" };

// The ICE configuration for this page: /api/ice-servers as the server sent it, and with
// ?relay=1 nothing but TURN relays (to test or to hide the local addresses).
export function rtcConfiguration(iceServersAnswer, forceRelay) {
  const config = { ...iceServersAnswer };
  if (forceRelay) {
    config.iceTransportPolicy = "relay";
  }
  return config;
}

export class CallSession extends EventTarget {
  // role: "caller" makes the offer; "callee" answers it.
  // send(message): hands a signaling message (without `to`) to the server.
  constructor({ role, configuration, localStream, send }) {
    super();
    this.role = role;
    this.send = send;
    this.localStream = localStream;
    this.pendingCandidates = [];   // remote candidates that came before the description
    this.signals = Promise.resolve();  // remote messages are applied one at a time, in order
    this.closed = false;

    this.pc = new RTCPeerConnection(configuration);
    this.pc.addEventListener("icecandidate", (event) => this.onLocalCandidate(event.candidate));
    this.pc.addEventListener("track", (event) => this.onTrack(event));
    this.pc.addEventListener("connectionstatechange", () =>
      this.emit("state", { connectionState: this.pc.connectionState }));

    this.chat = this.pc.createDataChannel(CHAT_CHANNEL.label,
                                          { negotiated: true, id: CHAT_CHANNEL.id });
    this.chat.addEventListener("open", () => this.emit("chat-open", {}));
    this.chat.addEventListener("message", (event) => this.onChatMessage(event.data));
    const fileChannel = this.pc.createDataChannel(FILE_CHANNEL.label,
                                                  { negotiated: true, id: FILE_CHANNEL.id });
    this.files = new FileChannel(fileChannel, (transfer) => this.emit("transfer", { transfer }));

    if (role === "caller") {
      this.addLocalMedia();
    }
  }

  // The caller offers audio and video whatever it has itself, so the callee can still send
  // its own camera and microphone.
  addLocalMedia() {
    const tracks = this.localStream ? this.localStream.getTracks() : [];
    for (const track of tracks) {
      this.pc.addTrack(track, this.localStream);
    }
    if (this.role === "caller") {
      for (const kind of ["audio", "video"]) {
        if (!tracks.some((t) => t.kind === kind)) {
          this.pc.addTransceiver(kind, { direction: "recvonly" });
        }
      }
    }
  }

  async start() {
    if (this.role !== "caller") {
      return;
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.send({ type: "offer", sdp: this.pc.localDescription.sdp });
  }

  // Applies an "offer", "answer" or "candidate" from the partner.
  handleSignal(message) {
    this.signals = this.signals
      .then(() => this.applySignal(message))
      .catch((err) => {
        console.error(`could not apply the partner's ${message.type}`, err);
        this.emit("signal-error", { type: message.type, error: err });
      });
    return this.signals;
  }

  async applySignal(message) {
    if (this.closed) {
      return;
    }
    if (message.type === "offer" && this.role === "callee") {
      await this.pc.setRemoteDescription({ type: "offer", sdp: String(message.sdp) });
      // After the offer, so the tracks take the transceivers the offer created.
      this.addLocalMedia();
      await this.flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.send({ type: "answer", sdp: this.pc.localDescription.sdp });
    } else if (message.type === "answer" && this.role === "caller") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: String(message.sdp) });
      await this.flushCandidates();
    } else if (message.type === "candidate" && message.candidate) {
      if (this.pc.remoteDescription) {
        await this.pc.addIceCandidate(message.candidate);
      } else {
        this.pendingCandidates.push(message.candidate);
      }
    }
  }

  async flushCandidates() {
    const candidates = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of candidates) {
      await this.pc.addIceCandidate(candidate);
    }
  }

  onLocalCandidate(candidate) {
    // null marks the end of gathering; the partner does not need to be told.
    if (candidate && !this.closed) {
      this.send({ type: "candidate", candidate: candidate.toJSON() });
    }
  }

  onTrack(event) {
    const stream = event.streams[0] || new MediaStream([event.track]);
    this.emit("track", { stream, track: event.track });
  }

  onChatMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message.text === "string") {
      this.emit("chat", { text: message.text, at: Number(message.at) || Date.now() });
    }
  }

  get chatOpen() {
    return this.chat.readyState === "open";
  }

  sendChat(text) {
    if (!this.chatOpen) {
      return false;
    }
    this.chat.send(JSON.stringify({ text, at: Date.now() }));
    return true;
  }

  sendFile(file) {
    return this.files.send(file);
  }

  close() {
    if (this.closed) {
      return;
    }
    this.closed = true;
    // A local close() fires no "close" on the channels, so unfinished transfers are told here.
    this.files.failAll("the call ended");
    this.pc.close();
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
