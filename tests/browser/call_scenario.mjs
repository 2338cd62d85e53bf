// The call both browser tests make: alice and bob open /call, see each other online, alice
// calls and bob accepts, media flows both ways, chat and a file cross, and one of them hangs
// up. With `relay`, both pages use ?relay=1 and the media must go through Strowger's TURN.

import { createHash, randomBytes } from "node:crypto";
import {
  requirements, run, Server, launchBrowser, openPerson, waitFor, assert, sleep, log, Fatal, notYet,
} from "./harness.mjs";

const sel = {
  nameInput: '[data-testid="name-input"]',
  joinButton: '[data-testid="join-button"]',
  peer: (name) => `[data-testid="peer"][data-peer-name="${name}"]`,
  callButton: (name) =>
    `[data-testid="peer"][data-peer-name="${name}"] [data-testid="call-button"]`,
  incomingName: '[data-testid="incoming-name"]',
  accept: '[data-testid="accept-button"]',
  hangup: '[data-testid="hangup-button"]',
  chatInput: '[data-testid="chat-input"]',
  chatSend: '[data-testid="chat-send"]',
  fileInput: '[data-testid="file-input"]',
};

function pageState(person) {
  return person.page.evaluate(() => ({
    state: window.strowgerCall.state,
    phase: window.strowgerCall.phase,
    connection: window.strowgerCall.pc?.connectionState ?? null,
  }));
}

async function waitForState(person, wanted, timeoutMs) {
  return waitFor(`${person.name}'s page to reach state ${wanted}`, async () => {
    const seen = await pageState(person);
    return seen.state === wanted ? seen : notYet(seen);
  }, timeoutMs);
}

async function signIn(person) {
  await person.page.fill(sel.nameInput, person.name);
  await person.page.click(sel.joinButton);
  await waitForState(person, "idle", 10000);
  const self = await person.page.evaluate(() => window.strowgerCall.self);
  assert(self && self.name === person.name && Number.isInteger(self.id),
         `${person.name} was welcomed with its name and an id (got ${JSON.stringify(self)})`);
  log(`${person.name} is online as #${self.id}`);
  return self;
}

async function waitUntilListed(person, other) {
  await waitFor(`${person.name} to list ${other.name} as online`, async () => {
    const peers = await person.page.evaluate(() => window.strowgerCall.peers);
    const shown = await person.page.locator(sel.peer(other.name)).count();
    return peers.some((p) => p.name === other.name && p.id === other.self.id) && shown === 1
      ? peers : notYet({ peers, shown });
  }, 10000);
}

// The sum of packetsReceived over the inbound-rtp streams of each kind.
function inboundPackets(person) {
  return person.page.evaluate(async () => {
    const totals = { audio: 0, video: 0 };
    const stats = await window.strowgerCall.pc.getStats();
    stats.forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind in totals) {
        totals[report.kind] += report.packetsReceived || 0;
      }
    });
    return totals;
  });
}

// The candidate pair ICE selected: the transport's selectedCandidatePairId, or else the
// nominated pair that succeeded.
function selectedPair(person) {
  return person.page.evaluate(async () => {
    const stats = await window.strowgerCall.pc.getStats();
    let pair = null;
    stats.forEach((report) => {
      if (report.type === "transport" && report.selectedCandidatePairId) {
        pair = stats.get(report.selectedCandidatePairId) || pair;
      }
    });
    if (!pair) {
      stats.forEach((report) => {
        if (report.type === "candidate-pair" && report.state === "succeeded" && report.nominated) {
          pair = report;
        }
      });
    }
    if (!pair) {
      return null;
    }
    const describe = (c) => c && {
      type: c.candidateType, address: c.address, port: c.port,
      protocol: c.protocol, relayProtocol: c.relayProtocol, url: c.url,
    };
    return { state: pair.state, local: describe(stats.get(pair.localCandidateId)),
             remote: describe(stats.get(pair.remoteCandidateId)) };
  });
}

async function checkMediaFlows(people) {
  const first = await Promise.all(people.map(inboundPackets));
  await sleep(2000);
  const second = await Promise.all(people.map(inboundPackets));
  people.forEach((person, i) => {
    log(`${person.name} inbound packets: audio ${first[i].audio} -> ${second[i].audio}, ` +
        `video ${first[i].video} -> ${second[i].video}`);
    for (const kind of ["audio", "video"]) {
      assert(second[i][kind] > first[i][kind],
             `${person.name} receives ${kind}: packetsReceived grew ` +
             `(${first[i][kind]} -> ${second[i][kind]})`);
    }
  });
}

async function waitForMedia(people) {
  await Promise.all(people.map((person) => waitFor(
    `${person.name}'s peer connection to connect`, async () => {
      const seen = await pageState(person);
      if (seen.connection === "failed") {
        throw new Fatal(`${person.name}'s peer connection failed`);
      }
      return seen.connection === "connected" && seen.state === "in-call" ? seen : notYet(seen);
    }, 20000)));
  // Both kinds must have arrived at least once before the growth check starts.
  await Promise.all(people.map((person) => waitFor(
    `${person.name} to receive audio and video`, async () => {
      const packets = await inboundPackets(person);
      return packets.audio > 0 && packets.video > 0 ? packets : notYet(packets);
    }, 15000)));
}

async function chat(from, to, text) {
  await waitFor(`${from.name}'s chat to open`,
                () => from.page.locator(sel.chatInput).isEnabled(), 10000);
  await from.page.fill(sel.chatInput, text);
  await from.page.click(sel.chatSend);
  await waitFor(`${to.name} to see ${from.name}'s chat message`, async () => {
    const messages = await to.page.evaluate(() => window.strowgerCall.chat);
    return messages.some((m) => m.from === "them" && m.name === from.name && m.text === text)
      ? messages : notYet(messages);
  }, 10000);
  // Shown as text in the log, not interpreted as HTML.
  const shown = await to.page.locator('[data-testid="chat-message"][data-from="them"] .chat-text')
    .last().textContent();
  assert(shown === text, `${to.name}'s chat log shows "${text}" (got "${shown}")`);
  log(`chat ${from.name} -> ${to.name}: "${text}"`);
}

// Sends `size` random bytes from `from` to `to`; both pages must report "verified" and the
// receiver's SHA-256 (shown and of the download) must equal the one computed here.
async function sendFile(from, to, size) {
  const bytes = randomBytes(size);
  const expected = createHash("sha256").update(bytes).digest("hex");
  const name = `random-${size}.bin`;
  const began = Date.now();
  await from.page.setInputFiles(sel.fileInput, {
    name, mimeType: "application/octet-stream", buffer: bytes,
  });
  const received = await waitFor(`${to.name} to receive and verify ${name}`, async () => {
    const transfers = await to.page.evaluate(() => window.strowgerCall.transfers);
    const t = transfers.find((x) => x.direction === "in" && x.name === name);
    if (t && (t.status === "mismatch" || t.status === "failed")) {
      throw new Fatal(`${to.name}'s transfer ended as ${t.status}: ${JSON.stringify(t)}`);
    }
    return t && t.status === "verified" ? t : notYet(t ?? transfers);
  }, 60000);
  const ms = Date.now() - began;
  const item = to.page.locator('[data-testid="transfer"][data-direction="in"]').first();
  const status = await item.locator('[data-testid="transfer-status"]').getAttribute("data-status");
  const statusText = await item.locator('[data-testid="transfer-status"]').textContent();
  const shownSha = await item.locator('[data-testid="transfer-sha256"]')
    .getAttribute("data-sha256");
  const progress = await item.locator('[data-testid="transfer-progress"]').evaluate((p) => p.value);
  assert(received.bytes === size, `${to.name} received ${size} bytes (got ${received.bytes})`);
  assert(status === "verified" && /verified/.test(statusText),
         `${to.name}'s page shows the file as verified (got ${status}, "${statusText}")`);
  assert(progress === 1, `${to.name}'s progress bar is full (got ${progress})`);
  assert(received.receivedSha256 === expected,
         `${to.name} computed the file's SHA-256 ${expected} (got ${received.receivedSha256})`);
  assert(shownSha === expected, `${to.name} shows SHA-256 ${expected} (got ${shownSha})`);
  assert(received.sha256 === expected,
         `${from.name} sent SHA-256 ${expected} (got ${received.sha256})`);

  // The download link holds the very bytes that were sent.
  const download = item.locator('[data-testid="transfer-download"]');
  assert(await download.getAttribute("download") === name, `the download link is named ${name}`);
  const downloadedSha = await download.evaluate(async (a) => {
    const data = await (await fetch(a.href)).arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", data);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  });
  assert(downloadedSha === expected,
         `the downloaded file's SHA-256 is ${expected} (got ${downloadedSha})`);

  // The sender hears the receiver's verdict.
  await waitFor(`${from.name} to see ${name} verified by ${to.name}`, async () => {
    const transfers = await from.page.evaluate(() => window.strowgerCall.transfers);
    const t = transfers.find((x) => x.direction === "out" && x.name === name);
    return t && t.status === "verified" && t.receivedSha256 === expected && t.bytes === size
      ? t : notYet(t ?? transfers);
  }, 10000);
  const mbps = (size * 8 / 1e6) / (ms / 1000);
  log(`file ${from.name} -> ${to.name}: ${size} bytes in ${ms} ms (${mbps.toFixed(1)} Mbit/s), ` +
      `SHA-256 ${expected} verified on both sides`);
}

async function hangUp(by, other) {
  await by.page.click(sel.hangup);
  for (const person of [by, other]) {
    await waitFor(`${person.name}'s call to end`, async () => {
      const ended = await person.page.evaluate(() => ({
        state: window.strowgerCall.state,
        phase: window.strowgerCall.phase,
        signaling: window.strowgerCall.pc?.signalingState ?? null,
        status: document.querySelector('[data-testid="call-status"]').textContent,
      }));
      return ended.state === "idle" && ended.phase === "ended" && ended.signaling === "closed"
        ? ended : notYet(ended);
    }, 10000);
  }
  const status = await other.page.locator('[data-testid="call-status"]').textContent();
  assert(status.includes(`${by.name} hung up`),
         `${other.name} is told "${by.name} hung up" (got "${status}")`);
  log(`${by.name} hung up; both pages ended the call`);
}

// A third page asks for a name already online: the server's name-taken error is shown on the
// sign-in form and the page stays signed out.
async function nameTaken(browser, url, ctx, name) {
  const eve = await openPerson(browser, "eve", url);
  ctx.addPerson(eve);
  await eve.page.fill(sel.nameInput, name);
  await eve.page.click(sel.joinButton);
  const error = await waitFor("eve to be told the name is taken", async () => {
    const text = await eve.page.locator('[data-testid="join-error"]').textContent();
    const visible = await eve.page.locator('[data-testid="join-error"]').isVisible();
    return visible && /already called/.test(text) ? text : notYet({ visible, text });
  }, 10000);
  const state = await eve.page.evaluate(() => window.strowgerCall.state);
  assert(state === "offline", `eve stays signed out after name-taken (got ${state})`);
  log(`eve asked for "${name}" and was told: ${error}`);
  await eve.context.close();
}

// bob declines alice's call: alice is told and both are free again.
async function declined(alice, bob) {
  await alice.page.click(sel.callButton("bob"));
  await waitForState(bob, "incoming", 10000);
  await bob.page.click('[data-testid="decline-button"]');
  await waitForState(alice, "idle", 10000);
  await waitForState(bob, "idle", 5000);
  const status = await alice.page.locator('[data-testid="call-status"]').textContent();
  assert(status === "bob declined the call.", `alice is told bob declined (got "${status}")`);
  log("bob declined a second call; alice was told");
}

// In a call, bob's page dies (a crash sends no hangup, as a lost network would not): the
// server's peer-left ends alice's side of the call.
async function partnerLeaves(alice, bob) {
  await bob.page.click(sel.callButton("alice"));
  await waitForState(alice, "incoming", 10000);
  await alice.page.click(sel.accept);
  await waitForMedia([alice, bob]);
  const cdp = await bob.context.newCDPSession(bob.page);
  cdp.send("Page.crash").catch(() => {});  // answered by no one: the renderer is gone
  const ended = await waitFor("alice's call to end when bob leaves", async () => {
    const seen = await alice.page.evaluate(() => ({
      state: window.strowgerCall.state,
      peers: window.strowgerCall.peers,
      signaling: window.strowgerCall.pc?.signalingState ?? null,
      status: document.querySelector('[data-testid="call-status"]').textContent,
    }));
    return seen.state === "idle" && seen.signaling === "closed" && seen.peers.length === 0
      ? seen : notYet(seen);
  }, 10000);
  assert(ended.status === "bob went offline.",
         `alice is told bob went offline (got "${ended.status}")`);
  log("bob's page crashed during a third call; alice's call ended on peer-left");
}

// The server goes away: the page says so and keeps trying to reconnect.
async function serverLost(alice, server) {
  await server.stop();
  const seen = await waitFor("alice's page to show the lost connection", async () => {
    const now = await alice.page.evaluate(() => ({
      pill: document.querySelector('[data-testid="connection-status"]').dataset.state,
      pillText: document.querySelector('[data-testid="connection-status"]').textContent,
      bannerVisible: !document.querySelector('[data-testid="banner"]').hidden,
      banner: document.querySelector('[data-testid="banner"]').textContent.trim(),
    }));
    return now.pill === "lost" && now.bannerVisible && /Lost the connection/.test(now.banner)
      ? now : notYet(now);
  }, 10000);
  const banner = seen.banner.replace(/\s*×$/, "");
  log(`server stopped; alice's page shows "${seen.pillText}" and "${banner}"`);
}

export async function callScenario({ relay, fileBytes, hangsUp, extras = false }) {
  const { binary, chromium } = await requirements();
  await run(async (ctx) => {
    const server = await new Server(binary).start();
    ctx.setServer(server);
    const browser = await launchBrowser(chromium);
    const url = `${server.baseUrl}/call${relay ? "?relay=1" : ""}`;
    const alice = await openPerson(browser, "alice", url);
    ctx.addPerson(alice);
    const bob = await openPerson(browser, "bob", url);
    ctx.addPerson(bob);
    const people = [alice, bob];
    for (const person of people) {
      // A redirect of /call must keep the query, or the page never learns of ?relay=1.
      const search = new URL(person.page.url()).search;
      assert(search === (relay ? "?relay=1" : ""),
             `${person.name}'s page kept the query of ${url} (landed on ${person.page.url()})`);
    }
    log(`pages open at ${url}`);

    alice.self = await signIn(alice);
    bob.self = await signIn(bob);
    await waitUntilListed(alice, bob);
    await waitUntilListed(bob, alice);
    log("alice and bob see each other online");

    await alice.page.click(sel.callButton("bob"));
    await waitForState(alice, "outgoing", 5000);
    await waitForState(bob, "incoming", 10000);
    const caller = await bob.page.locator(sel.incomingName).textContent();
    assert(caller === "alice", `bob is told alice is calling (got "${caller}")`);
    await bob.page.click(sel.accept);
    const callStarted = Date.now();
    await waitForMedia(people);
    log(`call connected in ${Date.now() - callStarted} ms`);

    const configuration = await alice.page.evaluate(() => window.strowgerCall.configuration);
    assert(configuration.iceServers?.length > 0,
           `the page uses /api/ice-servers (got ${JSON.stringify(configuration)})`);
    assert((configuration.iceTransportPolicy === "relay") === relay,
           `iceTransportPolicy is ${relay ? "relay" : "unset"} ` +
           `(got ${configuration.iceTransportPolicy})`);

    await checkMediaFlows(people);

    for (const person of people) {
      const pair = await selectedPair(person);
      log(`${person.name}'s selected pair: ${JSON.stringify(pair)}`);
      if (relay) {
        assert(pair && pair.local?.type === "relay" && pair.remote?.type === "relay",
               `${person.name}'s selected candidate pair is relay to relay ` +
               `(got ${JSON.stringify(pair)})`);
        assert(pair.local.port !== server.stunPort && pair.local.address === "127.0.0.1",
               `${person.name}'s relayed address is a Strowger relay on 127.0.0.1`);
      } else {
        assert(pair && pair.state === "succeeded", `${person.name} has a selected candidate pair`);
      }
    }

    await chat(alice, bob, "Hello bob <b>not bold</b> 👋");
    await chat(bob, alice, "Hi alice, loud and clear");
    await sendFile(alice, bob, fileBytes);

    const [by, other] = hangsUp === "bob" ? [bob, alice] : [alice, bob];
    await hangUp(by, other);

    if (extras) {
      await nameTaken(browser, url, ctx, "alice");
      await declined(alice, bob);
      await partnerLeaves(alice, bob);
      await serverLost(alice, server);
    }
  });
}
