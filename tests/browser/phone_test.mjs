// browser.phone: the /phone softphone (SIP.js over WSS with digest login) in three Chromium
// pages against a real strowger serving realm and domain example.test with accounts alice,
// bob and carol. A wrong password shows an error and never registers; alice calls bob, bob
// answers and media flows both ways (inbound-rtp grows); hold and resume; DTMF as SIP INFO
// and RFC 4733; mute; video turned on during the call; bob blind-transfers alice to carol,
// who answers, with media; carol hangs up; every page's call history shows its calls; the
// SIP log shows the REGISTER with its 401 and 200.
import {
  Server, assert, launchBrowser, log, notYet, openPerson, requirements, run, sleep, waitFor,
} from "./harness.mjs";

const USERS = { alice: "alice-pw", bob: "bob-pw", carol: "carol-pw" };

async function signIn(person, user, password) {
  const { page } = person;
  await page.getByTestId("user-input").fill(user);
  await page.getByTestId("password-input").fill(password);
  await page.getByTestId("signin-button").click();
}

async function registered(person) {
  await waitFor(`${person.name} registered`, async () => {
    const text = await person.page.getByTestId("registration-status").textContent();
    return text === "Registered" || notYet(text);
  }, 15000);
}

async function callStatus(person, want) {
  await waitFor(`${person.name}'s call to be "${want}"`, async () => {
    const text = await person.page.getByTestId("call-status").textContent();
    return text === want || notYet(text);
  }, 15000);
}

// Packets and bytes received on the call's RTCPeerConnection, by media kind.
async function received(person) {
  return person.page.evaluate(async () => {
    const pc = window.strowgerPhone?.call?.session?.sessionDescriptionHandler?.peerConnection;
    const out = { audio: 0, video: 0 };
    if (!pc) return out;
    for (const r of (await pc.getStats()).values()) {
      if (r.type === "inbound-rtp") out[r.kind] = (out[r.kind] ?? 0) + (r.packetsReceived ?? 0);
    }
    return out;
  });
}

async function mediaFlows(person, kind = "audio") {
  const before = (await received(person))[kind];
  await waitFor(`${kind} to reach ${person.name}`, async () => {
    const now = (await received(person))[kind];
    return now > before + 20 || notYet({ before, now });
  }, 15000, 250);
}

await run(async (test) => {
  const { binary, chromium } = await requirements();
  const server = await new Server(binary, {
    https: true,
    settings: ["general.realm=example.test", 'sip.domains=["example.test"]'],
    users: USERS,
  }).start();
  test.setServer(server);
  const browser = await launchBrowser(chromium);
  // The domain the accounts are in, as an operator would link to the page.
  const url = `${server.baseUrl}/phone/?domain=example.test`;
  const alice = await openPerson(browser, "alice", url);
  const bob = await openPerson(browser, "bob", url, { viewport: { width: 390, height: 800 } });
  const carol = await openPerson(browser, "carol", url);
  for (const p of [alice, bob, carol]) test.addPerson(p);

  // A wrong password: an error on the page, and the server never answered 200.
  await signIn(alice, "alice", "not-her-password");
  await waitFor("the wrong-password error", async () => {
    const error = alice.page.getByTestId("signin-error");
    return (await error.isVisible() && await error.textContent()) || notYet("no error shown");
  }, 15000);
  const error = await alice.page.getByTestId("signin-error").textContent();
  assert(/wrong user name or password/i.test(error), `the error says why: "${error}"`);
  assert(/wrong password for 'alice'/.test(server.output()), "the server logged the failure");
  const answers = await alice.page.evaluate(() => [...document.querySelectorAll(
    '[data-testid="sip-message"][data-direction="in"] summary')].map((s) => s.textContent));
  assert(answers.some((l) => /SIP\/2\.0 401 /.test(l)), `challenged: ${JSON.stringify(answers)}`);
  assert(!answers.some((l) => /SIP\/2\.0 200 /.test(l)), `no 200 for a wrong password: ${JSON.stringify(answers)}`);
  log("wrong password refused on the page");

  await signIn(alice, "alice", USERS.alice);
  await signIn(bob, "bob", USERS.bob);
  await signIn(carol, "carol", USERS.carol);
  for (const p of [alice, bob, carol]) await registered(p);
  const log401 = await alice.page.evaluate(() => [...document.querySelectorAll('[data-testid="sip-message"] summary')]
    .map((s) => s.textContent));
  assert(log401.some((l) => /← SIP\/2\.0 401 Unauthorized/.test(l)), "the SIP log shows the 401");
  assert(log401.some((l) => /← SIP\/2\.0 200 OK/.test(l)), "the SIP log shows the 200");
  log("alice, bob and carol registered over WSS with digest");

  // alice calls bob, who answers.
  await alice.page.getByTestId("dial-input").fill("bob");
  await alice.page.getByTestId("call-button").click();
  await waitFor("bob's incoming call", () => bob.page.getByTestId("incoming-dialog").isVisible(), 15000);
  const caller = await bob.page.getByTestId("incoming-name").textContent();
  assert(caller === "alice", `bob sees alice calling (saw "${caller}")`);
  await bob.page.getByTestId("answer-button").click();
  await callStatus(alice, "Connected");
  await callStatus(bob, "Connected");
  await mediaFlows(alice);
  await mediaFlows(bob);
  log("alice and bob talk: audio both ways");

  // Hold and resume.
  await alice.page.getByTestId("hold-button").click();
  await callStatus(alice, "On hold");
  await callStatus(bob, "Held by alice");
  await alice.page.getByTestId("hold-button").click();
  await callStatus(alice, "Connected");
  await callStatus(bob, "Connected");
  await mediaFlows(bob);
  log("hold and resume");

  // DTMF: SIP INFO (seen by bob's page) and RFC 4733 in the media.
  await alice.page.getByTestId("dtmf-info").check();
  await alice.page.getByTestId("key-5").click();
  await waitFor("bob to receive the INFO tone", async () => {
    const text = await bob.page.getByTestId("dtmf-echo").textContent();
    return text === "Received 5 (SIP INFO)" || notYet(text);
  }, 10000);
  await alice.page.getByTestId("dtmf-rfc4733").check();
  await alice.page.getByTestId("key-hash").click();
  await waitFor("alice's RFC 4733 tone sent", async () => {
    const text = await alice.page.getByTestId("dtmf-echo").textContent();
    return text === "Sent # (RFC 4733)" || notYet(text);
  }, 10000);
  log("DTMF by INFO and RFC 4733");

  // Mute, then video on during the call.
  await alice.page.getByTestId("mute-button").click();
  assert(await alice.page.getByTestId("mute-button").getAttribute("aria-pressed") === "true", "muted");
  await alice.page.getByTestId("mute-button").click();
  await alice.page.getByTestId("camera-button").click();
  await waitFor("alice's video to reach bob", async () => {
    const r = await received(bob);
    return r.video > 10 || notYet(r);
  }, 20000, 300);
  await alice.page.getByTestId("camera-button").click();
  await callStatus(alice, "Connected");
  log("mute, video on and off");

  // bob transfers alice to carol (blind), carol answers.
  await bob.page.getByTestId("transfer-button").click();
  await bob.page.getByTestId("transfer-input").fill("carol");
  await bob.page.getByTestId("transfer-go").click();
  await waitFor("carol's incoming call", () => carol.page.getByTestId("incoming-dialog").isVisible(), 15000);
  const transferred = await carol.page.getByTestId("incoming-name").textContent();
  assert(transferred === "alice", `carol sees alice (saw "${transferred}")`);
  await carol.page.getByTestId("answer-button").click();
  await callStatus(carol, "Connected");
  await waitFor("alice to talk to carol", async () => {
    const peer = await alice.page.getByTestId("call-peer").textContent();
    return /^carol/.test(peer) || notYet(peer);
  }, 15000);
  await callStatus(alice, "Connected");
  await mediaFlows(carol);
  await mediaFlows(alice);
  await waitFor("bob's call to end", async () => !(await bob.page.getByTestId("call").isVisible()), 10000);
  log("blind transfer: alice talks to carol");

  await carol.page.getByTestId("hangup-button").click();
  await waitFor("alice's call to end", async () => !(await alice.page.getByTestId("call").isVisible()), 10000);
  const history = async (p) => p.page.evaluate(() => [...document.querySelectorAll('[data-testid="history-item"]')]
    .map((i) => `${i.dataset.direction} ${i.querySelector(".history-peer").textContent} ${i.dataset.outcome}`));
  const aliceHistory = await history(alice);
  const bobHistory = await history(bob);
  assert(aliceHistory.includes("out bob transferred") && aliceHistory.some((h) => /^out carol answered$/.test(h)),
         `alice's history: ${JSON.stringify(aliceHistory)}`);
  assert(bobHistory.includes("in alice transferred"), `bob's history: ${JSON.stringify(bobHistory)}`);
  log(`histories: alice ${JSON.stringify(aliceHistory)}, bob ${JSON.stringify(bobHistory)}`);
  await sleep(200);
});
