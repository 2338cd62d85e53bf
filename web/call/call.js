// The /call page: sign in with a name, see who is online, call them (video, audio, chat,
// files). Signaling goes over /ws (docs/signaling.md); media and data go peer to peer, or
// through the server's TURN relay when the network (or ?relay=1) requires it.

import { Signaling, signalingUrl, describeClose } from "./signaling.js";
import { CallSession, rtcConfiguration } from "./peer.js";

const RING_TIMEOUT_MS = 45000;   // an unanswered call gives up after this
const NAME_KEY = "strowger.call.name";
const params = new URLSearchParams(location.search);
const FORCE_RELAY = params.get("relay") === "1";

const $ = (id) => document.getElementById(id);
const els = {
  body: document.body,
  connection: $("connection"),
  me: $("me"), meName: $("me-name"), leave: $("leave-button"),
  banner: $("banner"), bannerText: $("banner-text"), bannerClose: $("banner-close"),
  joinForm: $("join-form"), nameInput: $("name-input"), joinButton: $("join-button"),
  joinError: $("join-error"), relayNote: $("relay-note"),
  peerList: $("peer-list"), peerEmpty: $("peer-empty"), peerTemplate: $("peer-template"),
  callPlaceholder: $("call-placeholder"), callBody: $("call-body"),
  callTitle: $("call-title"), callStatus: $("call-status"),
  remoteVideo: $("remote-video"), localVideo: $("local-video"), noVideo: $("no-video"),
  mic: $("mic-button"), camera: $("camera-button"), hangup: $("hangup-button"),
  back: $("back-button"),
  chatLog: $("chat-log"), chatForm: $("chat-form"), chatInput: $("chat-input"),
  chatSend: $("chat-send"),
  files: $("files"), fileInput: $("file-input"), transfers: $("transfers"),
  transferTemplate: $("transfer-template"),
  incoming: $("incoming"), incomingName: $("incoming-name"),
  accept: $("accept-button"), decline: $("decline-button"),
};

const signaling = new Signaling(signalingUrl(location));

// Everything the page knows. `call` is null, or the one call being set up, held or just
// ended (kept so its chat and received files stay on screen).
const app = {
  self: null,            // {id, name} once welcomed
  peers: new Map(),      // id -> {id, name}, everyone else online
  call: null,
  chat: [],              // {from: "me"|"them", name, text, at} of the current call
  transfers: [],         // Transfer objects of the current call
  bannerTimer: null,
  lostBecause: "",       // why the connection to the server was lost, for the retry banner
  pageTitle: document.title,
};

// ---------------------------------------------------------------------------------------
// The call's phases: "outgoing" (ringing them), "incoming" (ringing us), "connecting"
// (accepted, media being set up), "active", "ended".

function newCall(partner, role, phase) {
  return { partner, role, phase, session: null, localStream: null, configuration: null,
           prepared: null, ringTimer: null, connectedAt: null, clockTimer: null };
}

function callIsLive() {
  return app.call !== null && app.call.phase !== "ended";
}

function isPartner(id) {
  return callIsLive() && app.call.partner.id === id;
}

function pageState() {
  if (!app.self) {
    return signaling.wanted ? "connecting" : "offline";
  }
  if (!callIsLive()) {
    return "idle";
  }
  const phase = app.call.phase;
  return phase === "outgoing" || phase === "incoming" ? phase : "in-call";
}

// ---------------------------------------------------------------------------------------
// Joining and the connection to the server

function validName(name) {
  const length = [...name].length;
  // The server's rule: 1 to 64 characters, no control characters.
  return length >= 1 && length <= 64 && !/[\u0000-\u001f\u007f]/.test(name);
}

function onJoinSubmit(event) {
  event.preventDefault();
  const name = els.nameInput.value.trim();
  if (!validName(name)) {
    showJoinError("Use 1 to 64 characters, without control characters.");
    return;
  }
  hideJoinError();
  els.joinButton.disabled = true;
  setConnection("connecting", "Connecting…");
  signaling.join(name);
}

function onWelcome({ id, name, peers }) {
  app.self = { id, name };
  localStorage.setItem(NAME_KEY, name);
  els.joinButton.disabled = false;
  els.meName.textContent = name;
  els.me.hidden = false;
  setConnection("online", "Online");
  hideBanner();
  setPeers(peers);
  setView(app.call ? "call" : "lobby");
  console.info(`signaling: welcome as ${name} (#${id})`);
}

function onConnectionClosed({ code, reason, willRetry }) {
  const why = describeClose(code, reason);
  app.lostBecause = why;
  console.warn(`signaling: closed (${code}) ${why}`);
  const wasOnline = app.self !== null;
  app.self = null;
  app.peers.clear();
  renderPeers();
  if (callIsLive()) {
    // Our id is gone, so the partner gets peer-left and ends the call on its side too.
    endCall(`The connection to the server was lost (${why}).`);
  }
  if (willRetry) {
    setConnection("lost", "Reconnecting…");
    showBanner(`Lost the connection to the server: ${why}. Reconnecting…`, "error");
    return;
  }
  els.joinButton.disabled = false;
  setConnection("offline", "Offline");
  if (signaling.wanted) {
    // Never welcomed: the server could not be reached, or it refused the name.
    signaling.leave();
    showJoinError(`Could not connect to the server: ${why}.`);
  } else if (wasOnline) {
    showBanner("Signed out.", "info");
  }
  setView("join");
}

function onRetry({ attempt, delayMs }) {
  setConnection("lost", `Reconnecting (try ${attempt})…`);
  showBanner(`Lost the connection to the server (${app.lostBecause}). ` +
             `Trying again in ${Math.round(delayMs / 1000)} s…`, "error");
}

function signOut() {
  if (callIsLive()) {
    hangUp();
  }
  signaling.leave();
  app.self = null;
  app.peers.clear();
  renderPeers();
  els.me.hidden = true;
  setConnection("offline", "Offline");
  setView("join");
}

function onServerError({ code, message, ref }) {
  console.warn(`signaling: error ${code} (${ref || "-"}): ${message}`);
  if (!signaling.ready) {
    onHelloRefused(code, message);
    return;
  }
  if (code === "unknown-peer" && callIsLive()) {
    // The partner left between our message and the server; its peer-left may follow.
    endCall(`${app.call.partner.name} is no longer online.`);
    return;
  }
  showBanner(`The server refused a message (${code}${ref ? `, ${ref}` : ""}): ${message}`,
             "error");
}

function onHelloRefused(code, message) {
  if (code === "name-taken" && signaling.welcomed) {
    // Reconnecting, and the server still holds our old connection: try again shortly.
    app.lostBecause = "the server still holds the old connection";
    signaling.retryLater();
    return;
  }
  signaling.leave();
  els.joinButton.disabled = false;
  setConnection("offline", "Offline");
  setView("join");
  showJoinError(code === "name-taken"
    ? `Someone online is already called "${els.nameInput.value.trim()}". Pick another name.`
    : `The server refused the name: ${message}`);
  els.nameInput.focus();
}

// ---------------------------------------------------------------------------------------
// Who is online

function setPeers(peers) {
  app.peers.clear();
  for (const peer of peers || []) {
    addPeer(peer, false);
  }
  renderPeers();
}

function addPeer(peer, render = true) {
  if (peer && typeof peer.id === "number" && peer.id !== app.self?.id) {
    app.peers.set(peer.id, { id: peer.id, name: String(peer.name) });
  }
  if (render) {
    renderPeers();
  }
}

function onPeerLeft({ peer }) {
  if (!peer) {
    return;
  }
  app.peers.delete(peer.id);
  renderPeers();
  if (isPartner(peer.id)) {
    const name = app.call.partner.name;
    if (app.call.phase === "incoming") {
      closeIncoming();
      app.call = null;
      showBanner(`Missed call from ${name}.`, "info");
    } else {
      endCall(`${name} went offline.`);
    }
  }
}

function renderPeers() {
  const peers = [...app.peers.values()].sort((a, b) => a.name.localeCompare(b.name));
  const items = peers.map(renderPeer);
  els.peerList.replaceChildren(...items);
  els.peerEmpty.hidden = peers.length > 0;
}

function renderPeer(peer) {
  const item = els.peerTemplate.content.firstElementChild.cloneNode(true);
  item.dataset.peerId = String(peer.id);
  item.dataset.peerName = peer.name;
  item.querySelector(".avatar").textContent = [...peer.name][0]?.toUpperCase() || "?";
  item.querySelector(".peer-name").textContent = peer.name;
  const button = item.querySelector(".call-button");
  button.disabled = callIsLive();
  button.setAttribute("aria-label", `Call ${peer.name}`);
  button.addEventListener("click", () => startCall(peer));
  return item;
}

// ---------------------------------------------------------------------------------------
// Setting up a call

function sendToPartner(message) {
  if (!app.call) {
    return false;
  }
  return signaling.send({ ...message, to: app.call.partner.id });
}

function startCall(peer) {
  if (callIsLive() || !app.self) {
    return;
  }
  resetCallView();
  const call = newCall(peer, "caller", "outgoing");
  app.call = call;
  showCall(`Calling ${peer.name}…`);
  renderPeers();
  if (!sendToPartner({ type: "call", media: { audio: true, video: true } })) {
    endCall("Not connected to the server.");
    return;
  }
  // Ask for the camera while it rings, so the call starts as soon as they accept.
  call.prepared = prepareCall(call);
  call.ringTimer = setTimeout(() => onRingTimeout(call), RING_TIMEOUT_MS);
  console.info(`call: calling ${peer.name} (#${peer.id})`);
}

function onRingTimeout(call) {
  if (app.call !== call || call.phase !== "outgoing") {
    return;
  }
  sendToPartner({ type: "hangup", reason: "no-answer" });
  endCall(`${call.partner.name} did not answer.`);
}

function onIncomingCall(message) {
  const partner = { id: message.from, name: String(message.fromName || `#${message.from}`) };
  if (callIsLive()) {
    if (isPartner(partner.id) && app.call.phase === "outgoing") {
      onCrossedCalls(partner);
    } else {
      signaling.send({ type: "decline", to: partner.id, reason: "busy" });
    }
    return;
  }
  app.call = newCall(partner, "callee", "incoming");
  els.incomingName.textContent = partner.name;
  document.title = `${partner.name} is calling – Strowger Call`;
  els.incoming.showModal();
  renderPeers();
  console.info(`call: incoming from ${partner.name} (#${partner.id})`);
}

// Both called each other at the same moment. The side with the higher id gives up its own
// call and accepts the other; the lower id waits for that accept. Both reach the same call.
function onCrossedCalls(partner) {
  if (app.self.id < partner.id) {
    return;
  }
  clearTimeout(app.call.ringTimer);
  app.call.role = "callee";
  answerCall(app.call);
}

async function acceptCall() {
  const call = app.call;
  closeIncoming();
  if (!call || call.phase !== "incoming") {
    return;
  }
  resetCallView();
  showCall("Starting…");
  call.prepared = prepareCall(call);
  await answerCall(call);
}

async function answerCall(call) {
  call.phase = "connecting";
  setCallStatus("Starting camera…");
  await call.prepared;
  if (app.call !== call || call.phase !== "connecting") {
    return; // hung up while the camera started
  }
  createSession(call);
  sendToPartner({ type: "accept" });
  setCallStatus("Connecting…");
}

function declineCall() {
  const call = app.call;
  closeIncoming();
  if (call && call.phase === "incoming") {
    sendToPartner({ type: "decline" });
    app.call = null;
    renderPeers();
  }
}

async function onAccepted(message) {
  const call = app.call;
  if (!isPartner(message.from) || call.phase !== "outgoing") {
    return;
  }
  clearTimeout(call.ringTimer);
  call.phase = "connecting";
  setCallStatus("Connecting…");
  await call.prepared;
  if (app.call !== call || call.phase !== "connecting") {
    return;
  }
  createSession(call);
  try {
    await call.session.start();
  } catch (err) {
    console.error("could not make the offer", err);
    hangUp(`Could not start the call: ${err.message}`);
  }
}

function onDeclined(message) {
  if (!isPartner(message.from)) {
    return;
  }
  const name = app.call.partner.name;
  endCall(message.reason === "busy" ? `${name} is busy.` : `${name} declined the call.`);
}

function onHangup(message) {
  if (!isPartner(message.from)) {
    return;
  }
  const name = app.call.partner.name;
  if (app.call.phase === "incoming") {
    closeIncoming();
    app.call = null;
    renderPeers();
    showBanner(`Missed call from ${name}.`, "info");
    return;
  }
  endCall(`${name} hung up.`);
}

function onPeerSignal(message) {
  if (isPartner(message.from) && app.call.session) {
    app.call.session.handleSignal(message);
  }
}

// Camera, microphone and ICE servers, fetched together.
async function prepareCall(call) {
  const [localStream, iceServers] = await Promise.all([getLocalMedia(), fetchIceServers()]);
  call.localStream = localStream;
  call.configuration = rtcConfiguration(iceServers, FORCE_RELAY);
  if (app.call === call && call.phase !== "ended") {
    showLocalVideo(localStream);
  } else {
    stopStream(localStream); // the call ended while the camera started
  }
}

async function getLocalMedia() {
  const attempts = [
    { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" } },
    { audio: true, video: false },
  ];
  for (const constraints of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      console.warn("getUserMedia failed", constraints, err);
    }
  }
  showBanner("No camera or microphone could be used: the call has chat and files only.", "info");
  return null;
}

async function fetchIceServers() {
  try {
    const response = await fetch("/api/ice-servers", { cache: "no-store" });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    return await response.json();
  } catch (err) {
    console.error("could not fetch /api/ice-servers", err);
    showBanner(`Could not fetch the ICE servers (${err.message}): ` +
               "calls work only where both sides can reach each other directly.", "error");
    return { iceServers: [] };
  }
}

function createSession(call) {
  const session = new CallSession({
    role: call.role,
    configuration: call.configuration,
    localStream: call.localStream,
    // Bound to this call: a late candidate must never reach the partner of a later call.
    send: (message) => app.call === call && call.phase !== "ended" &&
      signaling.send({ ...message, to: call.partner.id }),
  });
  call.session = session;
  session.addEventListener("track", (e) => showRemoteStream(e.detail.stream));
  session.addEventListener("state", (e) => onConnectionState(call, e.detail.connectionState));
  session.addEventListener("chat-open", () => setChatEnabled(true));
  session.addEventListener("chat", (e) =>
    addChat({ from: "them", name: call.partner.name, ...e.detail }));
  session.addEventListener("transfer", (e) => addTransfer(e.detail.transfer));
  session.addEventListener("signal-error", (e) =>
    showBanner(`Could not apply ${call.partner.name}'s ${e.detail.type}: ${e.detail.error.message}`,
               "error"));
  const policy = call.configuration.iceTransportPolicy || "all";
  console.info(`call: ${call.role} session, ICE policy ${policy}`);
}

function onConnectionState(call, state) {
  if (app.call !== call || call.phase === "ended") {
    return;
  }
  console.info(`call: connection ${state}`);
  if (state === "connected") {
    call.phase = "active";
    if (call.connectedAt === null) {
      call.connectedAt = Date.now();
      call.clockTimer = setInterval(() => showCallClock(call), 1000);
    }
    showCallClock(call);
  } else if (state === "disconnected") {
    setCallStatus("Connection interrupted, recovering…");
  } else if (state === "failed") {
    setCallStatus("Connection failed");
    showBanner(FORCE_RELAY
      ? "The media connection failed: the TURN relay could not be reached."
      : "The media connection failed: no network path between you. Try again with ?relay=1.",
      "error");
  } else if (state === "connecting") {
    setCallStatus("Connecting…");
  }
}

// ---------------------------------------------------------------------------------------
// Ending a call

function hangUp(reason = "Call ended.") {
  if (!callIsLive()) {
    return;
  }
  sendToPartner({ type: "hangup" });
  endCall(reason);
}

// Tears the call down but keeps its view (chat, received files) until the next call.
function endCall(reason) {
  const call = app.call;
  if (!call || call.phase === "ended") {
    return;
  }
  const wasIncoming = call.phase === "incoming";
  call.phase = "ended";
  clearTimeout(call.ringTimer);
  clearInterval(call.clockTimer);
  call.session?.close();
  stopStream(call.localStream);
  closeIncoming();
  els.remoteVideo.srcObject = null;
  els.localVideo.srcObject = null;
  els.localVideo.hidden = true;
  els.noVideo.textContent = "Call ended";
  els.noVideo.hidden = false;
  setChatEnabled(false);
  showCallControls(false);
  setCallStatus(reason);
  renderPeers();
  if (wasIncoming) {
    app.call = null;
  }
  console.info(`call: ended: ${reason}`);
}

function stopStream(stream) {
  for (const track of stream?.getTracks() || []) {
    track.stop();
  }
}

function backToPeople() {
  if (callIsLive()) {
    return;
  }
  resetCallView();
  app.call = null;
  setView("lobby");
}

// ---------------------------------------------------------------------------------------
// The call view

function showCall(status) {
  els.callTitle.textContent = app.call.partner.name;
  els.callPlaceholder.hidden = true;
  els.callBody.hidden = false;
  showCallControls(true);
  setCallStatus(status);
  setView("call");
}

function resetCallView() {
  for (const transfer of app.transfers) {
    if (transfer.url) {
      URL.revokeObjectURL(transfer.url);
    }
  }
  app.transfers = [];
  app.chat = [];
  els.chatLog.replaceChildren();
  els.transfers.replaceChildren();
  els.remoteVideo.srcObject = null;
  els.localVideo.srcObject = null;
  els.localVideo.hidden = true;
  els.noVideo.textContent = "No video yet";
  els.noVideo.hidden = false;
  setToggle(els.mic, false, "Mute", "Unmute");
  setToggle(els.camera, false, "Camera off", "Camera on");
  els.callPlaceholder.hidden = false;
  els.callBody.hidden = true;
  setChatEnabled(false);
}

// During a call: mute, camera and hang up. After it: the way back to the list.
function showCallControls(live) {
  els.mic.hidden = !live;
  els.camera.hidden = !live;
  els.hangup.hidden = !live;
  els.back.hidden = live;
}

function setCallStatus(text) {
  els.callStatus.textContent = text;
}

function showCallClock(call) {
  const seconds = Math.floor((Date.now() - call.connectedAt) / 1000);
  const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  setCallStatus(`Connected · ${mm}:${ss}`);
}

function showLocalVideo(stream) {
  els.localVideo.srcObject = stream;
  els.localVideo.hidden = !stream?.getVideoTracks().length;
  const hasAudio = Boolean(stream?.getAudioTracks().length);
  const hasVideo = Boolean(stream?.getVideoTracks().length);
  els.mic.disabled = !hasAudio;
  els.camera.disabled = !hasVideo;
}

function showRemoteStream(stream) {
  if (els.remoteVideo.srcObject !== stream) {
    els.remoteVideo.srcObject = stream;
  }
  els.noVideo.hidden = stream.getVideoTracks().length > 0;
}

function toggleTrack(kind, button, onLabel, offLabel) {
  const tracks = app.call?.localStream?.getTracks().filter((t) => t.kind === kind) || [];
  if (!tracks.length) {
    return;
  }
  const off = tracks[0].enabled;  // enabled now, so this click turns it off
  for (const track of tracks) {
    track.enabled = !off;
  }
  setToggle(button, off, onLabel, offLabel);
}

function setToggle(button, pressed, onLabel, offLabel) {
  button.setAttribute("aria-pressed", String(pressed));
  button.textContent = pressed ? offLabel : onLabel;
}

// ---------------------------------------------------------------------------------------
// Chat

function setChatEnabled(enabled) {
  els.chatInput.disabled = !enabled;
  els.chatSend.disabled = !enabled;
  els.fileInput.disabled = !enabled;
  els.files.classList.toggle("disabled", !enabled);
}

function onChatSubmit(event) {
  event.preventDefault();
  const text = els.chatInput.value.trim();
  const session = app.call?.session;
  if (!text || !session) {
    return;
  }
  if (!session.sendChat(text)) {
    showBanner("The chat is not connected yet.", "error");
    return;
  }
  els.chatInput.value = "";
  addChat({ from: "me", name: app.self?.name || "me", text, at: Date.now() });
}

function addChat(entry) {
  app.chat.push(entry);
  const item = document.createElement("li");
  item.className = `chat-message from-${entry.from}`;
  item.dataset.testid = "chat-message";
  item.dataset.from = entry.from;
  const who = document.createElement("span");
  who.className = "chat-who";
  who.textContent = entry.from === "me" ? "You" : entry.name;
  const text = document.createElement("span");
  text.className = "chat-text";
  text.textContent = entry.text;  // text, never HTML: it comes from the other side
  const time = document.createElement("time");
  time.dateTime = new Date(entry.at).toISOString();
  time.textContent = new Date(entry.at).toLocaleTimeString([],
                                                           { hour: "2-digit", minute: "2-digit" });
  item.append(who, text, time);
  els.chatLog.append(item);
  item.scrollIntoView({ block: "end" });
}

// ---------------------------------------------------------------------------------------
// Files

function sendFiles(files) {
  const session = app.call?.session;
  if (!session || !session.chatOpen) {
    showBanner("Files can be sent once the call is connected.", "error");
    return;
  }
  for (const file of files) {
    session.sendFile(file);
  }
}

function addTransfer(transfer) {
  app.transfers.push(transfer);
  const item = els.transferTemplate.content.firstElementChild.cloneNode(true);
  item.dataset.direction = transfer.direction;
  item.querySelector(".transfer-arrow").textContent = transfer.direction === "out" ? "↑" : "↓";
  item.querySelector(".transfer-name").textContent = transfer.name;
  item.querySelector(".transfer-size").textContent = formatBytes(transfer.size);
  els.transfers.prepend(item);
  // Chunks arrive far faster than frames: draw at most once per frame.
  let scheduled = false;
  const render = () => {
    scheduled = false;
    renderTransfer(item, transfer);
  };
  transfer.addEventListener("change", () => {
    if (transfer.done) {
      render();
    } else if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  });
  render();
}

const STATUS_TEXT = {
  sending: "Sending",
  receiving: "Receiving",
  checking: "Checking SHA-256…",
  verified: "✓ verified",
  mismatch: "✗ mismatch",
  failed: "failed",
};

function renderTransfer(item, transfer) {
  const fraction = transfer.size ? transfer.bytes / transfer.size : 1;
  const progress = item.querySelector("progress");
  progress.value = transfer.status === "verified" ? 1 : Math.min(fraction, 1);
  const status = item.querySelector(".transfer-status");
  status.dataset.status = transfer.status;
  item.dataset.status = transfer.status;
  let text = STATUS_TEXT[transfer.status] || transfer.status;
  if (transfer.status === "sending" || transfer.status === "receiving") {
    text += ` ${Math.floor(fraction * 100)}%`;
  }
  if (transfer.error) {
    text += ` (${transfer.error})`;
  }
  status.textContent = text;
  // The receiver shows the hash of what arrived; the sender the hash of what it sent.
  const sha = transfer.direction === "in" ? transfer.receivedSha256 : transfer.sha256;
  const shaEl = item.querySelector(".transfer-sha");
  shaEl.textContent = sha ? `SHA-256 ${sha}` : "";
  shaEl.dataset.sha256 = sha || "";
  const link = item.querySelector(".transfer-download");
  if (transfer.url && link.hidden) {
    link.href = transfer.url;
    link.download = transfer.name;
    link.hidden = false;
  }
}

function formatBytes(n) {
  const units = ["B", "KB", "MB", "GB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function onFileDrop(event) {
  event.preventDefault();
  els.files.classList.remove("drop");
  if (event.dataTransfer?.files?.length) {
    sendFiles([...event.dataTransfer.files]);
  }
}

// ---------------------------------------------------------------------------------------
// Page chrome

function setView(view) {
  els.body.dataset.view = view;
}

function setConnection(state, text) {
  els.connection.dataset.state = state;
  els.connection.textContent = text;
}

function showBanner(text, kind = "error") {
  clearTimeout(app.bannerTimer);
  els.bannerText.textContent = text;
  els.banner.dataset.kind = kind;
  els.banner.hidden = false;
  if (kind === "info") {
    app.bannerTimer = setTimeout(hideBanner, 6000);
  }
}

function hideBanner() {
  els.banner.hidden = true;
}

function showJoinError(text) {
  els.joinError.textContent = text;
  els.joinError.hidden = false;
}

function hideJoinError() {
  els.joinError.hidden = true;
}

function closeIncoming() {
  if (els.incoming.open) {
    els.incoming.close();
  }
  document.title = app.pageTitle;
}

// ---------------------------------------------------------------------------------------
// Wiring

function bindSignaling() {
  const handlers = {
    welcome: onWelcome,
    peers: ({ peers }) => setPeers(peers),
    "peer-joined": ({ peer }) => addPeer(peer),
    "peer-left": onPeerLeft,
    call: onIncomingCall,
    accept: onAccepted,
    decline: onDeclined,
    hangup: onHangup,
    offer: onPeerSignal,
    answer: onPeerSignal,
    candidate: onPeerSignal,
    error: onServerError,
    close: onConnectionClosed,
    retry: onRetry,
  };
  for (const [type, handler] of Object.entries(handlers)) {
    signaling.addEventListener(type, (event) => handler(event.detail));
  }
}

function bindPage() {
  els.joinForm.addEventListener("submit", onJoinSubmit);
  els.leave.addEventListener("click", signOut);
  els.bannerClose.addEventListener("click", hideBanner);
  els.accept.addEventListener("click", acceptCall);
  els.decline.addEventListener("click", declineCall);
  // Escape closes a modal dialog: treat it as declining.
  els.incoming.addEventListener("cancel", (event) => {
    event.preventDefault();
    declineCall();
  });
  els.hangup.addEventListener("click", () => hangUp());
  els.back.addEventListener("click", backToPeople);
  els.mic.addEventListener("click", () => toggleTrack("audio", els.mic, "Mute", "Unmute"));
  els.camera.addEventListener("click",
    () => toggleTrack("video", els.camera, "Camera off", "Camera on"));
  els.chatForm.addEventListener("submit", onChatSubmit);
  els.fileInput.addEventListener("change", () => {
    sendFiles([...els.fileInput.files]);
    els.fileInput.value = "";  // the same file can be picked again
  });
  els.files.addEventListener("dragover", (event) => {
    event.preventDefault();
    els.files.classList.add("drop");
  });
  els.files.addEventListener("dragleave", () => els.files.classList.remove("drop"));
  els.files.addEventListener("drop", onFileDrop);
  // Closing the tab ends the call at once instead of when the server notices.
  window.addEventListener("pagehide", () => {
    if (callIsLive() && app.call.phase !== "incoming") {
      sendToPartner({ type: "hangup" });
    }
  });
}

// A read-only view for debugging and the browser tests.
function exposeDebugHandle() {
  const handle = {
    get state() { return pageState(); },
    get pc() { return app.call?.session?.pc ?? null; },
    get self() { return app.self ? { ...app.self } : null; },
    get peers() { return [...app.peers.values()].map((p) => ({ ...p })); },
    get partner() { return app.call ? { ...app.call.partner } : null; },
    get phase() { return app.call?.phase ?? null; },
    get relay() { return FORCE_RELAY; },
    get configuration() {
      return app.call?.configuration ? structuredClone(app.call.configuration) : null;
    },
    get chat() { return app.chat.map((m) => ({ ...m })); },
    get transfers() { return app.transfers.map((t) => t.snapshot()); },
  };
  Object.defineProperty(window, "strowgerCall", { value: Object.freeze(handle) });
}

function init() {
  bindSignaling();
  bindPage();
  exposeDebugHandle();
  els.nameInput.value = localStorage.getItem(NAME_KEY) || "";
  els.relayNote.hidden = !FORCE_RELAY;
  resetCallView();
  renderPeers();
  setView("join");
}

init();
