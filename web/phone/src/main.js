// The /phone page: sign in to an extension, dial, answer, and the controls of a call. All SIP
// is in sip_phone.js; this file only turns its events into the page and clicks into calls.

import { SipPhone } from "./sip_phone.js";
import { addToHistory, clearHistory, loadHistory } from "./history.js";
import { Ringer } from "./ringer.js";
import { SipLog } from "./sip_log.js";

const $ = (id) => document.getElementById(id);
const phone = new SipPhone();
const ringer = new Ringer();
const sipLog = new SipLog($("siplog-list"), $("siplog-count"));
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const LETTERS = { 2: "ABC", 3: "DEF", 4: "GHI", 5: "JKL", 6: "MNO", 7: "PQRS", 8: "TUV", 9: "WXYZ", 0: "+" };
const params = new URLSearchParams(location.search);

let timer = null;

// ---- small helpers --------------------------------------------------------------------------

function setView(view) {
  document.body.dataset.view = view;
}

function banner(text) {
  $("banner-text").textContent = text;
  $("banner").hidden = !text;
}

function setRegistration(state, text) {
  const pill = $("registration");
  pill.dataset.state = state;
  pill.textContent = text;
}

function formatSeconds(total) {
  const s = Math.max(0, Math.round(total));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

function dtmfMode() {
  return document.querySelector('input[name="dtmf-mode"]:checked')?.value ?? "rfc4733";
}

// ---- sign in ---------------------------------------------------------------------------------

const serverUrl = SipPhone.serverUrl(location);
$("server-url").textContent = serverUrl;
$("domain-input").value = params.get("domain") ?? location.hostname;
$("user-input").value = localStorage.getItem("strowger.phone.user") ?? "";

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = $("user-input").value.trim();
  const password = $("password-input").value;
  const domain = $("domain-input").value.trim() || location.hostname;
  $("signin-error").hidden = true;
  $("signin-button").disabled = true;
  try {
    await phone.signIn({ user, password, domain, server: serverUrl });
    localStorage.setItem("strowger.phone.user", user);
    $("me-name").textContent = `${user}@${domain}`;
    $("me").hidden = false;
    $("password-input").value = "";
    setView("phone");
    $("dial-input").focus();
  } catch (error) {
    $("signin-error").textContent = error.message || String(error);
    $("signin-error").hidden = false;
    await phone.signOut().catch(() => {});
    setRegistration("failed", "Not signed in");
  } finally {
    $("signin-button").disabled = false;
  }
});

$("signout-button").addEventListener("click", async () => {
  await phone.signOut();
  $("me").hidden = true;
  setView("signin");
});

phone.addEventListener("registration", ({ detail }) => {
  const labels = { registering: "Signing in…", registered: "Registered", failed: "Not registered", unregistered: "Signed out" };
  setRegistration(detail.state, labels[detail.state] ?? detail.state);
  if (detail.state === "failed" && document.body.dataset.view === "phone") {
    banner(`Registration lost: ${detail.reason}`);
  }
});

phone.addEventListener("sip", ({ detail }) => sipLog.add(detail.direction, detail.text));
$("siplog-clear").addEventListener("click", () => sipLog.clear());

// ---- dialling and the keypad ------------------------------------------------------------------

for (const key of KEYS) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "key";
  button.dataset.testid = `key-${key === "*" ? "star" : key === "#" ? "hash" : key}`;
  button.dataset.key = key;
  button.innerHTML = `<span class="digit">${key}</span><span class="letters">${LETTERS[key] ?? "&nbsp;"}</span>`;
  button.addEventListener("click", () => pressKey(key));
  $("keypad").append(button);
}

async function pressKey(key) {
  ringer.beep();
  if (phone.call && phone.call.state === "talking") {
    const sent = await phone.sendDtmf(key, dtmfMode()).catch(() => false);
    if (!sent) banner("The tone could not be sent.");
    return;
  }
  $("dial-input").value += key;
}

async function dial(video) {
  const target = $("dial-input").value;
  if (!target.trim()) {
    $("dial-input").focus();
    return;
  }
  banner("");
  try {
    await phone.dial(target, { video });
  } catch (error) {
    banner(error.message || String(error));
  }
}

$("dial-form").addEventListener("submit", (event) => {
  event.preventDefault();
  dial(false);
});
$("video-call-button").addEventListener("click", () => dial(true));

// ---- incoming calls ---------------------------------------------------------------------------

phone.addEventListener("incoming", ({ detail: { call } }) => {
  $("incoming-name").textContent = call.peer.name;
  $("incoming-kind").textContent = call.offersVideo ? "Video call" : "Audio call";
  $("answer-video-button").hidden = !call.offersVideo;
  $("incoming").showModal();
  ringer.start();
});

function closeIncoming() {
  ringer.stop();
  if ($("incoming").open) $("incoming").close();
}

$("answer-button").addEventListener("click", () => {
  closeIncoming();
  phone.answer({ video: false }).catch((error) => banner(`Could not answer: ${error.message}`));
});
$("answer-video-button").addEventListener("click", () => {
  closeIncoming();
  phone.answer({ video: true }).catch((error) => banner(`Could not answer: ${error.message}`));
});
$("decline-button").addEventListener("click", () => {
  closeIncoming();
  phone.decline().catch(() => {});
});

phone.addEventListener("refused", ({ detail }) => {
  banner(`A call from ${detail.peer.name} could not be taken: ${detail.reason}. ` +
    "Calls between browsers and desk phones need the media gateway, which is not there yet.");
  addToHistory({ direction: "in", peer: detail.peer.name, uri: detail.peer.uri, started: Date.now(), seconds: 0, outcome: "not WebRTC" });
  renderHistory();
});

// ---- the call ----------------------------------------------------------------------------------

const STATUS = {
  calling: "Calling…", ringing: "Ringing…", connecting: "Connecting…", talking: "Connected", ended: "Ended",
};

function renderCall(call) {
  const active = Boolean(call) && call.state !== "ended";
  $("call").hidden = !active;
  document.body.dataset.inCall = active ? "yes" : "no";
  if (!active) return;
  $("call-peer").textContent = call.transferredFrom
    ? `${call.peer.name} (transferred by ${call.transferredFrom})` : call.peer.name;
  let status = STATUS[call.state] ?? call.state;
  if (call.state === "talking" && call.held) status = "On hold";
  else if (call.state === "talking" && call.remoteHeld) status = `Held by ${call.peer.name}`;
  $("call-status").textContent = status;
  $("call-status").dataset.state = call.held ? "held" : call.remoteHeld ? "remote-held" : call.state;
  const talking = call.state === "talking";
  for (const id of ["mute-button", "hold-button", "camera-button", "transfer-button"]) {
    $(id).disabled = !talking;
  }
  $("mute-button").setAttribute("aria-pressed", String(call.muted));
  $("mute-button").textContent = call.muted ? "Unmute" : "Mute";
  $("hold-button").setAttribute("aria-pressed", String(call.held));
  $("hold-button").textContent = call.held ? "Resume" : "Hold";
  $("camera-button").setAttribute("aria-pressed", String(call.video));
  $("camera-button").textContent = call.video ? "Video off" : "Video on";
  $("hangup-button").textContent = call.direction === "out" && !talking ? "Cancel" : "Hang up";
  if (talking && !timer) {
    timer = setInterval(() => {
      if (phone.call?.answered) $("call-timer").textContent = formatSeconds((Date.now() - phone.call.answered) / 1000);
    }, 500);
  }
}

phone.addEventListener("call", ({ detail: { call } }) => {
  if (call.state !== "ringing" || call.direction !== "in") closeIncoming();
  renderCall(call);
});

phone.addEventListener("media", ({ detail: { call } }) => {
  const remote = call.remoteStream;
  const hasVideo = remote && remote.getVideoTracks().some((t) => t.readyState === "live");
  if ($("remote-audio").srcObject !== remote) $("remote-audio").srcObject = remote;
  $("remote-video").srcObject = hasVideo ? remote : null;
  $("local-video").srcObject = call.video ? call.localStream : null;
  $("videos").dataset.video = hasVideo || call.video ? "yes" : "no";
});

phone.addEventListener("dtmf", ({ detail }) => {
  $("dtmf-echo").textContent = detail.sent
    ? `Sent ${detail.tone} (${detail.how === "info" ? "SIP INFO" : "RFC 4733"})`
    : `Received ${detail.tone} (SIP INFO)`;
});

phone.addEventListener("ended", ({ detail: { call, outcome } }) => {
  closeIncoming();
  clearInterval(timer);
  timer = null;
  $("call-timer").textContent = "";
  $("dtmf-echo").textContent = "";
  $("transfer-form").hidden = true;
  for (const id of ["remote-video", "local-video", "remote-audio"]) $(id).srcObject = null;
  $("videos").dataset.video = "no";
  if (call.notWebRtc) {
    banner(`${call.peer.name} cannot take WebRTC media (a plain RTP phone). Calls between ` +
      "browsers and desk phones need the media gateway, which is not there yet.");
  } else if (outcome.startsWith("failed") || outcome === "busy" || outcome === "declined") {
    const why = outcome === "busy" ? "is busy" : outcome === "declined" ? "declined the call" : `— ${outcome.replace(/^failed: ?/, "") || "the call failed"}`;
    banner(`${call.peer.name} ${why}`);
  }
  addToHistory({
    direction: call.direction,
    peer: call.peer.name,
    uri: call.peer.uri,
    started: call.started,
    seconds: call.answered ? (Date.now() - call.answered) / 1000 : 0,
    outcome,
  });
  renderHistory();
  renderCall(phone.call);
});

$("hangup-button").addEventListener("click", () => phone.hangUp().catch(() => {}));
$("mute-button").addEventListener("click", () => phone.setMuted(!phone.call?.muted));
$("hold-button").addEventListener("click", () => {
  const call = phone.call;
  if (call) phone.setHold(!call.held).catch((error) => banner(`Hold failed: ${error.message}`));
});
$("camera-button").addEventListener("click", () => {
  const call = phone.call;
  if (call) phone.setVideo(!call.video).catch((error) => banner(`Video failed: ${error.message}`));
});
$("transfer-button").addEventListener("click", () => {
  $("transfer-form").hidden = !$("transfer-form").hidden;
  if (!$("transfer-form").hidden) $("transfer-input").focus();
});
$("transfer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await phone.transfer($("transfer-input").value);
    $("transfer-input").value = "";
  } catch (error) {
    banner(error.message || String(error));
  }
});

// ---- history ----------------------------------------------------------------------------------

const OUTCOME_TEXT = {
  answered: "", missed: "Missed", declined: "Declined", busy: "Busy", cancelled: "Cancelled", transferred: "Transferred",
};

function renderHistory() {
  const list = loadHistory();
  const template = $("history-template");
  $("history-list").replaceChildren(...list.map((entry) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.direction = entry.direction;
    item.dataset.outcome = entry.outcome;
    item.querySelector(".direction").textContent = entry.direction === "in" ? "↙" : "↗";
    item.querySelector(".history-peer").textContent = entry.peer;
    const outcome = entry.outcome in OUTCOME_TEXT ? OUTCOME_TEXT[entry.outcome] : entry.outcome;
    item.querySelector(".history-outcome").textContent =
      entry.outcome === "answered" ? formatSeconds(entry.seconds) : outcome;
    const when = item.querySelector(".history-when");
    when.dateTime = new Date(entry.started).toISOString();
    when.textContent = new Date(entry.started).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    item.querySelector(".redial").addEventListener("click", () => {
      $("dial-input").value = entry.uri.replace(/^sip:/, "") || entry.peer;
      dial(false);
    });
    return item;
  }));
  $("history-empty").hidden = list.length > 0;
}

$("history-clear").addEventListener("click", () => {
  clearHistory();
  renderHistory();
});

$("banner-close").addEventListener("click", () => banner(""));
window.addEventListener("pagehide", () => { phone.signOut().catch(() => {}); });

renderHistory();
setView("signin");
if ($("user-input").value) $("password-input").focus();
else $("user-input").focus();
window.strowgerPhone = phone; // for tests and the curious: the call and its RTCPeerConnection
