// Shared pieces of the browser tests: a real `strowger serve` on loopback with free ports and
// its own data directory, headless Chromium (Debian's, never a downloaded one) with fake
// camera and microphone, bounded waits, and a report of what was seen when something fails.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, openSync, readFileSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import path from "node:path";

export const SKIP = 77;  // ctest SKIP_RETURN_CODE
export const CHROMIUM = process.env.STROWGER_CHROMIUM || "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--ignore-certificate-errors",  // the test servers' self-signed certificates (HTTPS, WSS)
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const started = Date.now();
export function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] ${message}`);
}

// Something the test needs is missing: a failure under CI, a loud skip elsewhere.
export function missingRequirement(message) {
  if (process.env.CI === "true") {
    console.error(`FAILED: ${message}`);
    process.exit(1);
  }
  console.error(`SKIPPING: ${message}`);
  process.exit(SKIP);
}

// playwright-core comes from `npm ci` in tests/browser; Chromium from Debian's package.
export async function requirements() {
  const binary = process.env.STROWGER_BINARY;
  if (!binary || !existsSync(binary)) {
    missingRequirement(`STROWGER_BINARY is not set to a built strowger ('${binary ?? ""}')`);
  }
  if (!existsSync(CHROMIUM)) {
    missingRequirement(`${CHROMIUM} is not installed (apt-get install chromium)`);
  }
  let playwright;
  try {
    playwright = await import("playwright-core");
  } catch (err) {
    missingRequirement("playwright-core is not installed: run `npm ci` in tests/browser " +
                       `(${err.code || err.message})`);
  }
  return { binary, chromium: playwright.chromium };
}

function portFree(kind, port) {
  return new Promise((resolve) => {
    if (kind === "udp") {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    } else {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    }
  });
}

function anyTcpPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A port free for both UDP and TCP on 127.0.0.1 (STUN/TURN listens on both with one number).
export async function freePort(taken = new Set()) {
  for (let i = 0; i < 100; i++) {
    const port = await anyTcpPort();
    if (!taken.has(port) && await portFree("udp", port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port");
}

// Everything to undo at the end, newest first, whether the test passed or not.
const cleanups = [];
export function onCleanup(fn) {
  cleanups.push(fn);
}

async function cleanUp() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${err.message}`);
    }
  }
}

export class Server {
  // `https`: the web service on a tls: listener (a self-signed certificate is made), as
  // browsers need for cameras and WSS; `settings`: more --set values; `users`: accounts made
  // with `strowger user add` before the server starts ({name: password}).
  constructor(binary, { https = false, settings = [], users = {} } = {}) {
    this.binary = binary;
    this.https = https;
    this.settings = settings;
    this.users = users;
    this.dataDir = mkdtempSync(path.join(tmpdir(), "strowger-browser-"));
    this.logPath = path.join(this.dataDir, "server.log");
    this.proc = null;
  }

  common() {
    return ["--set", `general.data_dir=${this.dataDir}`, ...this.settings.flatMap((s) => ["--set", s])];
  }

  async start() {
    const taken = new Set();
    this.httpPort = await freePort(taken);
    this.stunPort = await freePort(taken);
    this.sipPort = await freePort(taken);
    for (const [name, password] of Object.entries(this.users)) {
      const added = spawnSync(this.binary, ["user", "add", name, password, ...this.common()],
                              { encoding: "utf8" });
      if (added.status !== 0) {
        throw new Fatal(`strowger user add ${name} failed: ${added.stderr}`);
      }
    }
    const args = [
      "serve",
      "--set", "general.threads=1",
      "--set", `http.listen=["${this.https ? "tls" : "tcp"}:127.0.0.1:${this.httpPort}"]`,
      "--set", `stun.listen=["udp:127.0.0.1:${this.stunPort}","tcp:127.0.0.1:${this.stunPort}"]`,
      "--set", `sip.listen=["udp:127.0.0.1:${this.sipPort}"]`,
      "--set", "turn.relay_address=127.0.0.1",
      ...this.common(),
    ];
    const logFd = openSync(this.logPath, "w");
    this.proc = spawn(this.binary, args, { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => {
      this.exitStatus = signal || code;
      resolve();
    }));
    onCleanup(() => this.stop());
    // Should this process end without cleaning up (a signal, an uncaught error), the server
    // must not outlive it.
    process.once("exit", () => {
      if (this.exitStatus === undefined) {
        this.proc.kill("SIGKILL");
      }
    });
    log(`strowger pid ${this.proc.pid}: http ${this.httpPort}, stun/turn ${this.stunPort}, ` +
        `sip ${this.sipPort}, data ${this.dataDir}`);
    await waitFor("the server to start", () => {
      if (this.exitStatus !== undefined) {
        throw new Fatal(`strowger exited (${this.exitStatus}) before serving:\n${this.output()}`);
      }
      return /serving with 1 shards/.test(this.output());
    }, 15000, 50);
    return this;
  }

  get baseUrl() {
    return `${this.https ? "https" : "http"}://127.0.0.1:${this.httpPort}`;
  }

  output() {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  // Stops only the process this test started, by its PID.
  async stop() {
    if (this.proc && this.exitStatus === undefined) {
      this.proc.kill("SIGTERM");
      const stopped = await Promise.race([this.exited.then(() => true),
                                          sleep(5000).then(() => false)]);
      if (!stopped) {
        this.proc.kill("SIGKILL");
        await this.exited;
      }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// An error that ends a wait at once instead of being retried until the timeout.
export class Fatal extends Error {}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// What a check returns when its condition does not hold yet, with what it saw instead (for
// the failure message).
const NOT_YET = Symbol("not yet");
export function notYet(seen) {
  return { [NOT_YET]: true, seen };
}

// Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws,
// naming what was awaited and the last value or error seen).
export async function waitFor(what, check, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const result = await check();
      if (result && result[NOT_YET]) {
        last = result.seen;
      } else if (result) {
        return result;
      } else {
        last = result;
      }
    } catch (err) {
      if (err instanceof Fatal) {
        throw err;
      }
      last = `error: ${err.message}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ` +
                      JSON.stringify(last));
    }
    await sleep(intervalMs);
  }
}

export function assert(condition, message) {
  if (!condition) {
    throw new Error(`assertion failed: ${message}`);
  }
}

// launch() gives Chromium a fresh temporary profile of its own, removed when it closes.
export async function launchBrowser(chromium) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
  onCleanup(() => browser.close());
  return browser;
}

// Chromium offers host candidates on every interface of the machine, and the tests send to
// loopback only. So each page's RTCPeerConnection ignores the partner's candidates on other
// addresses; the app's own code runs unchanged. (Relay candidates are on 127.0.0.1.)
function keepIceOnLoopback() {
  const add = RTCPeerConnection.prototype.addIceCandidate;
  const loopback = /^(127\.|::1$|\[::1\]$)/;
  RTCPeerConnection.prototype.addIceCandidate = function addLoopbackCandidate(candidate, ...rest) {
    const text = candidate?.candidate ?? "";
    const address = text.split(" ")[4];
    if (text && address && !loopback.test(address)) {
      console.debug(`test: ignoring a candidate off loopback: ${text}`);
      return Promise.resolve();
    }
    return add.call(this, candidate, ...rest);
  };
}

// One person: a page in its own browser context (no shared storage), with its console kept
// for the failure report.
export async function openPerson(browser, name, url, { viewport = { width: 1280, height: 800 } } = {}) {
  // The test server's certificate is self-signed: trusted here as a user would, once.
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
  await context.addInitScript(keepIceOnLoopback);
  const page = await context.newPage();
  const consoleLines = [];
  page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
  page.setDefaultTimeout(15000);
  await page.goto(url, { waitUntil: "load", timeout: 15000 });
  return { name, page, context, consoleLines };
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    console.error(`FAILED: stopped by ${signal}`);
    cleanUp().finally(() => process.exit(1));
  });
}

// Runs the test body; on failure prints the error, each page's console and the server log.
export async function run(body) {
  const people = [];
  let server = null;
  const context = {
    addPerson: (person) => people.push(person),
    setServer: (s) => { server = s; },
  };
  const timer = setTimeout(() => {
    console.error("FAILED: the test ran past its own 240 s limit");
    report(people, server).finally(() => cleanUp().finally(() => process.exit(1)));
  }, 240000);
  try {
    await body(context);
    clearTimeout(timer);
    await cleanUp();
    log("PASSED");
    process.exit(0);
  } catch (err) {
    clearTimeout(timer);
    console.error(`FAILED: ${err.stack || err}`);
    await report(people, server);
    await cleanUp();
    process.exit(1);
  }
}

async function report(people, server) {
  for (const person of people) {
    let state = "";
    try {
      state = JSON.stringify(await person.page.evaluate(() => ({
        state: window.strowgerCall?.state,
        phase: window.strowgerCall?.phase,
        connection: window.strowgerCall?.pc?.connectionState,
        banner: document.getElementById("banner")?.hidden
          ? "" : document.getElementById("banner")?.textContent.trim(),
        callStatus: document.getElementById("call-status")?.textContent,
        registration: document.getElementById("registration")?.textContent,
        phoneCall: window.strowgerPhone?.call?.state,
      })));
    } catch (err) {
      state = `(page unavailable: ${err.message})`;
    }
    console.error(`--- ${person.name}: ${state}`);
    console.error(`--- ${person.name}'s console (${person.consoleLines.length} lines):`);
    for (const line of person.consoleLines.slice(-80)) {
      console.error(`  ${line}`);
    }
  }
  if (server) {
    console.error("--- strowger log (last 60 lines):");
    console.error(server.output().split("\n").slice(-60).join("\n"));
  }
}
