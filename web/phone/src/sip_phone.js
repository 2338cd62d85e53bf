// The softphone's SIP side, on SIP.js: one user agent over SIP over WebSocket to the server
// the page came from, its registration, and at most one call at a time. The UI listens to
// the events this dispatches and never touches SIP.js itself.
//
// Events (CustomEvent, details in brackets):
//   registration {state, reason}     "registering" | "registered" | "failed" | "unregistered"
//   incoming     {call}              a call is ringing here (call.peer, call.video)
//   refused      {peer, reason}      an incoming call this page could not take (answered 488)
//   call         {call}              the call changed (call.state, call.held, ...)
//   media        {call}              its streams changed (call.remoteStream, call.localStream)
//   ended        {call, outcome}     it is over: "answered", "missed", "declined", "busy",
//                                    "failed: <reason>", "cancelled", "transferred"
//   dtmf         {call, tone, how}   a tone received ("info") or sent ("rfc4733" | "info")
//   sip          {direction, text}   every SIP message sent or received

import {
  Inviter, Registerer, RegistererState, SessionState, UserAgent,
} from "sip.js";

const WEBRTC_SDP = /^a=fingerprint:/m; // DTLS-SRTP: what a browser can play

// Whether an SDP body is one a browser can take: ICE and DTLS-SRTP (RFC 8827), not plain RTP.
export function isWebRtcSdp(sdp) {
  return typeof sdp === "string" && WEBRTC_SDP.test(sdp) && /^a=ice-ufrag:/m.test(sdp);
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// One instance id per browser (RFC 5626 §4.1), so that a reload replaces its own binding.
function instanceId() {
  const key = "strowger.phone.instance";
  let id = localStorage.getItem(key);
  if (!id) {
    id = uuid();
    localStorage.setItem(key, id);
  }
  return id;
}

function peerOf(uri, displayName) {
  const user = uri?.user ?? "";
  const host = uri?.host ?? "";
  return { name: displayName || user || host, uri: uri ? uri.toString() : "", user };
}

// The party a call is with, as its URI and name.
class Call {
  constructor(session, direction, peer, video) {
    this.session = session;
    this.direction = direction; // "out" | "in"
    this.peer = peer;
    this.video = video; // with our camera
    this.state = "ringing";
    this.held = false; // we put it on hold
    this.remoteHeld = false; // the far end did
    this.muted = false;
    this.started = Date.now();
    this.answered = null;
    this.remoteStream = null;
    this.localStream = null;
    this.outcome = null;
    this.notWebRtc = false;
  }
}

export class SipPhone extends EventTarget {
  constructor() {
    super();
    this.ua = null;
    this.registerer = null;
    this.call = null;
    this.user = "";
    this.domain = "";
    this.server = "";
    this.iceServers = [];
    this.authFailed = false;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  static serverUrl(location) {
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sip`;
  }

  // Signs in: connects, registers, and resolves once registered (or rejects with the reason).
  async signIn({ user, password, domain, server }) {
    this.user = user;
    this.domain = domain;
    this.server = server;
    this.authFailed = false;
    try {
      const answer = await fetch("/api/ice-servers", { cache: "no-store" });
      if (answer.ok) this.iceServers = (await answer.json()).iceServers ?? [];
    } catch {
      this.iceServers = []; // calls still work between hosts that reach each other directly
    }
    const uri = UserAgent.makeURI(`sip:${encodeURIComponent(user)}@${domain}`);
    if (!uri) throw new Error(`"${user}@${domain}" is not a SIP address`);
    this.ua = new UserAgent({
      uri,
      authorizationUsername: user,
      authorizationPassword: password,
      displayName: user,
      instanceId: instanceId(),
      logBuiltinEnabled: false,
      logLevel: "log",
      logConnector: (level, category, label, content) => this.onLog(level, category, content),
      transportOptions: { server, traceSip: true, keepAliveInterval: 25 },
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { iceServers: this.iceServers },
        iceGatheringTimeout: 2000,
      },
      delegate: {
        onInvite: (invitation) => this.onInvite(invitation),
        onDisconnect: (error) => {
          if (error) this.emit("registration", { state: "failed", reason: "Connection to the server lost" });
        },
      },
    });
    await this.ua.start();
    this.registerer = new Registerer(this.ua, { expires: 600, regId: 1 });
    const registered = new Promise((resolve, reject) => {
      this.registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) {
          this.emit("registration", { state: "registered" });
          resolve();
        } else if (state === RegistererState.Unregistered) {
          this.emit("registration", { state: "unregistered" });
        }
      });
      this.settleRegistration = reject;
    });
    this.emit("registration", { state: "registering" });
    await this.registerer.register({
      requestDelegate: {
        onReject: (response) => {
          const { statusCode, reasonPhrase } = response.message;
          const reason = statusCode === 401 || statusCode === 407
            ? "Wrong user name or password"
            : `${statusCode} ${reasonPhrase}`;
          this.authFailed = true;
          this.emit("registration", { state: "failed", reason });
          this.settleRegistration?.(new Error(reason));
        },
      },
    });
    return registered;
  }

  async signOut() {
    const ua = this.ua;
    if (!ua) return;
    if (this.call) await this.hangUp();
    try {
      if (this.registerer && this.registerer.state === RegistererState.Registered) {
        await this.registerer.unregister();
      }
    } catch { /* the connection may be gone already */ }
    await ua.stop();
    this.ua = null;
    this.registerer = null;
    this.emit("registration", { state: "unregistered" });
  }

  // Traffic from SIP.js's transport log (traceSip): the messages as they went over the wire.
  onLog(level, category, content) {
    if (level === "warn" || level === "error") console.warn(`${category}: ${content}`);
    if (typeof content !== "string" || !category.endsWith("sip.Transport")) return;
    const sent = content.match(/^Sending WebSocket message:\n\n([\s\S]*)\n$/);
    const got = content.match(/^Received WebSocket (?:text|binary) message:\n\n([\s\S]*)\n$/);
    if (sent) this.emit("sip", { direction: "out", text: sent[1] });
    else if (got) this.emit("sip", { direction: "in", text: got[1] });
  }

  // ---- calls -------------------------------------------------------------------------------

  target(text) {
    const t = text.trim();
    if (!t) return null;
    if (/^sips?:/i.test(t)) return UserAgent.makeURI(t);
    if (t.includes("@")) return UserAgent.makeURI(`sip:${t}`);
    return UserAgent.makeURI(`sip:${encodeURIComponent(t)}@${this.domain}`);
  }

  mediaOptions(video, hold = false) {
    return { constraints: { audio: true, video: Boolean(video) }, hold };
  }

  async dial(text, { video = false } = {}) {
    if (!this.ua) throw new Error("Not signed in");
    if (this.call) throw new Error("Already in a call");
    const target = this.target(text);
    if (!target) throw new Error(`"${text}" is not an extension or SIP address`);
    const inviter = new Inviter(this.ua, target, {
      sessionDescriptionHandlerOptions: this.mediaOptions(video),
    });
    const call = new Call(inviter, "out", peerOf(target), video);
    call.state = "calling";
    this.adopt(call);
    try {
      await inviter.invite({
        requestDelegate: {
          onProgress: (response) => {
            if (response.message.statusCode === 180 || response.message.statusCode === 183) {
              call.state = "ringing";
              this.emit("call", { call });
            }
          },
          onAccept: (response) => {
            if (!isWebRtcSdp(response.message.body)) {
              call.notWebRtc = true; // SIP.js refuses the answer and ends the call
              call.outcome = "failed: the far end cannot take WebRTC media";
            }
          },
          onReject: (response) => {
            const { statusCode, reasonPhrase } = response.message;
            call.outcome = statusCode === 486 || statusCode === 600 ? "busy"
              : statusCode === 603 ? "declined"
                : statusCode === 487 ? "cancelled"
                  : statusCode === 488 ? "failed: the far end cannot take WebRTC media"
                    : `failed: ${statusCode} ${reasonPhrase}`;
            if (statusCode === 488) call.notWebRtc = true;
          },
        },
      });
    } catch (error) {
      call.outcome ??= `failed: ${error.message}`;
      this.finish(call);
    }
    return call;
  }

  onInvite(invitation) {
    const peer = peerOf(invitation.remoteIdentity.uri, invitation.remoteIdentity.displayName);
    const offer = invitation.request.body;
    if (this.call) {
      invitation.reject({ statusCode: 486 }); // one call at a time
      return;
    }
    if (offer && !isWebRtcSdp(offer)) {
      // A desk phone's plain RTP: the browser cannot play it until the media gateway exists.
      invitation.reject({ statusCode: 488, reasonPhrase: "Not Acceptable Here (no WebRTC media)" });
      this.emit("refused", { peer, reason: "their phone sends plain RTP, which a browser cannot play" });
      return;
    }
    const video = /^m=video [1-9]/m.test(offer ?? "");
    const call = new Call(invitation, "in", peer, false);
    call.offersVideo = video;
    this.adopt(call);
    this.emit("incoming", { call });
  }

  async answer({ video = false } = {}) {
    const call = this.call;
    if (!call || call.direction !== "in" || call.answered) return;
    call.video = video;
    await call.session.accept({ sessionDescriptionHandlerOptions: this.mediaOptions(video) });
  }

  async decline() {
    const call = this.call;
    if (!call || call.direction !== "in" || call.answered) return;
    call.outcome = "declined";
    await call.session.reject({ statusCode: 603 });
  }

  async hangUp() {
    const call = this.call;
    if (!call) return;
    const s = call.session;
    if (s.state === SessionState.Established) {
      call.outcome ??= "answered";
      await s.bye();
    } else if (call.direction === "out" && s.state === SessionState.Establishing) {
      call.outcome = "cancelled";
      await s.cancel();
    } else if (call.direction === "in" && s.state === SessionState.Initial) {
      await this.decline();
    }
  }

  // Hold and resume (RFC 3264 §8.4): a re-INVITE with sendonly, then sendrecv again.
  async setHold(held) {
    const call = this.call;
    if (!call || call.state !== "talking" || call.held === held) return;
    call.session.sessionDescriptionHandlerOptionsReInvite = this.mediaOptions(call.video, held);
    await this.reinvite(call, () => { call.held = held; });
  }

  // Camera on or off during the call: a re-INVITE with or without video.
  async setVideo(video) {
    const call = this.call;
    if (!call || call.state !== "talking" || call.video === video) return;
    call.session.sessionDescriptionHandlerOptionsReInvite = this.mediaOptions(video, call.held);
    await this.reinvite(call, () => { call.video = video; });
  }

  reinvite(call, onAccepted) {
    return new Promise((resolve, reject) => {
      call.session.invite({
        requestDelegate: {
          onAccept: () => {
            onAccepted();
            this.applyMute(call);
            this.refreshMedia(call);
            this.emit("call", { call });
            resolve();
          },
          onReject: (response) => reject(new Error(`${response.message.statusCode} ${response.message.reasonPhrase}`)),
        },
      }).catch(reject);
    });
  }

  setMuted(muted) {
    const call = this.call;
    if (!call) return;
    call.muted = muted;
    this.applyMute(call);
    this.emit("call", { call });
  }

  applyMute(call) {
    const pc = call.session.sessionDescriptionHandler?.peerConnection;
    for (const sender of pc?.getSenders() ?? []) {
      if (sender.track && sender.track.kind === "audio") sender.track.enabled = !call.muted;
    }
  }

  // Blind transfer (RFC 3515): REFER the far end to `text`; once it accepts, our leg ends.
  async transfer(text) {
    const call = this.call;
    const target = this.target(text);
    if (!call || call.state !== "talking") throw new Error("No call to transfer");
    if (!target) throw new Error(`"${text}" is not an extension or SIP address`);
    await new Promise((resolve, reject) => {
      call.session.refer(target, {
        requestDelegate: {
          onAccept: () => resolve(),
          onReject: (response) => reject(new Error(`Transfer refused: ${response.message.statusCode} ${response.message.reasonPhrase}`)),
        },
      }).catch(reject);
    });
    call.outcome = "transferred";
    await call.session.bye();
  }

  // We are the transferee: accept the REFER, call the target, leave the old call.
  async onRefer(call, referral) {
    await referral.accept();
    const target = referral.referTo.uri;
    const old = call.session;
    call.outcome = "transferred";
    this.call = null;
    old.bye().catch(() => {});
    this.finish(call);
    const inviter = referral.makeInviter({ sessionDescriptionHandlerOptions: this.mediaOptions(call.video) });
    const next = new Call(inviter, "out", peerOf(target), call.video);
    next.state = "calling";
    next.transferredFrom = call.peer.name;
    this.adopt(next);
    inviter.invite().catch((error) => {
      next.outcome = `failed: ${error.message}`;
      this.finish(next);
    });
  }

  // DTMF (RFC 4733 in the media, or SIP INFO with application/dtmf-relay).
  async sendDtmf(tone, how) {
    const call = this.call;
    if (!call || call.state !== "talking") return false;
    if (how === "info") {
      await call.session.info({
        requestOptions: {
          body: { contentDisposition: "render", contentType: "application/dtmf-relay", content: `Signal=${tone}\r\nDuration=160\r\n` },
        },
      });
    } else if (!call.session.sessionDescriptionHandler?.sendDtmf(tone)) {
      return false;
    }
    this.emit("dtmf", { call, tone, how, sent: true });
    return true;
  }

  // ---- session plumbing --------------------------------------------------------------------

  adopt(call) {
    this.call = call;
    const s = call.session;
    s.delegate = {
      onRefer: (referral) => this.onRefer(call, referral).catch(() => referral.reject?.()),
      onInfo: (info) => {
        const m = /Signal\s*=\s*([0-9A-D*#])/i.exec(info.request.body ?? "");
        info.accept();
        if (m) this.emit("dtmf", { call, tone: m[1].toUpperCase(), how: "info", sent: false });
      },
      onInvite: (request) => {
        // A re-INVITE from the far end: hold is sendonly or inactive in its offer.
        const body = request.body ?? "";
        call.remoteHeld = /^a=(sendonly|inactive)/m.test(body) && !/^a=sendrecv/m.test(body);
        this.refreshMedia(call);
        this.emit("call", { call });
      },
      onSessionDescriptionHandler: (sdh) => {
        sdh.peerConnectionDelegate = {
          ontrack: () => this.refreshMedia(call),
        };
      },
    };
    s.stateChange.addListener((state) => {
      if (state === SessionState.Establishing) {
        call.state = call.direction === "out" ? "calling" : "connecting";
      } else if (state === SessionState.Established) {
        call.state = "talking";
        call.answered = Date.now();
        this.applyMute(call);
        this.refreshMedia(call);
      } else if (state === SessionState.Terminated) {
        this.finish(call);
        return;
      }
      this.emit("call", { call });
    });
    this.emit("call", { call });
  }

  refreshMedia(call) {
    const sdh = call.session.sessionDescriptionHandler;
    if (!sdh) return;
    call.remoteStream = sdh.remoteMediaStream;
    call.localStream = sdh.localMediaStream;
    this.emit("media", { call });
  }

  finish(call) {
    if (call.finished) return;
    call.finished = true;
    call.state = "ended";
    if (!call.outcome) {
      if (call.answered) call.outcome = "answered";
      else if (call.direction === "in") call.outcome = "missed";
      else call.outcome = "failed";
    }
    if (this.call === call) this.call = null;
    this.emit("ended", { call, outcome: call.outcome });
  }
}
