// browser.jssip: JsSIP (npm, bundled here with esbuild), an independent second browser SIP
// client, registers over WSS with MD5 digest as bob, and takes a call from alice's /phone
// (SIP.js): it answers, media flows both ways (inbound-rtp grows on both), and JsSIP hangs up,
// which ends the call on alice's page. JsSIP becomes "registered" only if the REGISTER 200
// lists its own binding (+sip.instance and reg-id), so that is checked too.
import { build } from "esbuild";
import { createRequire } from "node:module";

import {
  Server, assert, launchBrowser, log, notYet, openPerson, requirements, run, waitFor,
} from "./harness.mjs";

const require = createRequire(import.meta.url);

async function jssipBundle() {
  const result = await build({
    entryPoints: [require.resolve("jssip")],
    bundle: true,
    format: "iife",
    globalName: "JsSIP",
    platform: "browser",
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

await run(async (test) => {
  const { binary, chromium } = await requirements();
  const server = await new Server(binary, {
    https: true,
    settings: ["general.realm=example.test", 'sip.domains=["example.test"]'],
    users: { alice: "alice-pw", bob: "bob-pw" },
  }).start();
  test.setServer(server);
  const browser = await launchBrowser(chromium);

  // bob: JsSIP on a page of the server's origin (a secure context, for the microphone).
  const bob = await openPerson(browser, "bob (JsSIP)", `${server.baseUrl}/jssip-test-page`);
  test.addPerson(bob);
  await bob.page.addScriptTag({ content: await jssipBundle() });
  await bob.page.evaluate(({ port }) => {
    const state = { registered: false, failed: "", session: null, ended: "", answered: false };
    window.bobState = state;
    const socket = new JsSIP.WebSocketInterface(`wss://127.0.0.1:${port}/sip`);
    const ua = new JsSIP.UA({
      sockets: [socket], uri: "sip:bob@example.test", password: "bob-pw", register: true,
      session_timers: false,
    });
    ua.on("registered", () => { state.registered = true; });
    ua.on("registrationFailed", (e) => { state.failed = e.cause; });
    ua.on("newRTCSession", ({ session, originator }) => {
      if (originator !== "remote") return;
      state.session = session;
      state.caller = session.remote_identity.uri.user;
      session.on("ended", (e) => { state.ended = e.cause; });
      session.on("failed", (e) => { state.ended = `failed: ${e.cause}`; });
      session.on("confirmed", () => { state.answered = true; });
      session.answer({ mediaConstraints: { audio: true, video: false },
                       pcConfig: { iceServers: [] } });
    });
    ua.start();
    window.bobUa = ua;
  }, { port: server.httpPort });
  await waitFor("JsSIP to register", async () => {
    const s = await bob.page.evaluate(() => ({ registered: window.bobState.registered, failed: window.bobState.failed }));
    if (s.failed) throw new Error(`JsSIP registration failed: ${s.failed}`);
    return s.registered || notYet(s);
  }, 15000);
  log("JsSIP registered as bob over WSS with digest");

  const alice = await openPerson(browser, "alice", `${server.baseUrl}/phone/?domain=example.test`);
  test.addPerson(alice);
  await alice.page.getByTestId("user-input").fill("alice");
  await alice.page.getByTestId("password-input").fill("alice-pw");
  await alice.page.getByTestId("signin-button").click();
  await waitFor("alice registered", async () => {
    const text = await alice.page.getByTestId("registration-status").textContent();
    return text === "Registered" || notYet(text);
  }, 15000);
  await alice.page.getByTestId("dial-input").fill("bob");
  await alice.page.getByTestId("call-button").click();
  await waitFor("JsSIP to answer", () => bob.page.evaluate(() => window.bobState.answered), 15000);
  await waitFor("alice connected", async () => {
    const text = await alice.page.getByTestId("call-status").textContent();
    return text === "Connected" || notYet(text);
  }, 15000);
  const caller = await bob.page.evaluate(() => window.bobState.caller);
  assert(caller === "alice", `JsSIP sees alice calling (saw ${caller})`);

  const aliceReceived = () => alice.page.evaluate(async () => {
    const pc = window.strowgerPhone?.call?.session?.sessionDescriptionHandler?.peerConnection;
    let n = 0;
    for (const r of (await pc.getStats()).values()) if (r.type === "inbound-rtp") n += r.packetsReceived ?? 0;
    return n;
  });
  const bobReceived = () => bob.page.evaluate(async () => {
    let n = 0;
    for (const r of (await window.bobState.session.connection.getStats()).values()) {
      if (r.type === "inbound-rtp") n += r.packetsReceived ?? 0;
    }
    return n;
  });
  for (const [who, count] of [["alice", aliceReceived], ["bob (JsSIP)", bobReceived]]) {
    const before = await count();
    await waitFor(`audio to reach ${who}`, async () => {
      const now = await count();
      return now > before + 20 || notYet({ before, now });
    }, 15000, 250);
  }
  log("SIP.js calls JsSIP: audio both ways");

  await bob.page.evaluate(() => window.bobState.session.terminate());
  await waitFor("alice's call to end", async () => !(await alice.page.getByTestId("call").isVisible()), 10000);
  const ended = await bob.page.evaluate(() => window.bobState.ended);
  assert(ended === "Terminated", `JsSIP ended the call normally (${ended})`);
  log("JsSIP hung up; alice's page ended the call");
});
