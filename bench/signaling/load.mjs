#!/usr/bin/env node
// Load generator for strowger's WebRTC signaling: the libwebrtc peerconnection_server
// long-poll protocol (/sign_in, /wait, /message, /sign_out) and the WebSocket JSON signaling
// at /ws (docs/signaling.md). One phase per run; bench/signaling/run.sh starts a fresh server
// for each and reads the last line, `RESULT key=value ...`.
//
//   node load.mjs PHASE --port P --pid SERVER_PID [options]
//
// Phases:
//   lp-hold   N long-poll clients sign in and each keeps a /wait parked, re-issuing it after
//             every response as the native client does (so each drains the presence
//             notifications of those who sign in after it); measured: time until all are
//             signed in, every notification delivered and every /wait parked; server memory.
//   ws-hold   N WebSocket clients connect to /ws, say hello and get their welcome; each gets a
//             peer-joined for everyone who comes after it; measured: time until all are
//             welcomed and every peer-joined delivered; server memory.
//   lp-relay  P pairs of long-poll clients; each sender POSTs /message to its receiver, one at
//             a time (the next once the server has answered and closed the previous), for a
//             fixed time; the receiver collects them with /wait. Messages/s and latency.
//   ws-relay  P pairs of WebSocket clients; each sender sends `offer` messages to its receiver
//             at a fixed rate (under the server's per-client limit) for a fixed time, first
//             half the senders, then all of them. Messages/s and latency of each step.
//
// Options (defaults in brackets):
//   --host H [127.0.0.1]  --port P  --pid PID (the server's, for /proc figures)
//   --clients N [1000]    clients of a hold phase
//   --arrivals serial|burst [serial]  hold phases: each client signs in (says hello) once
//                         the previous one's presence is delivered everywhere, or all at once
//                         with --concurrency in flight
//   --idle N [0]          ws-hold: first hold N WebSocket connections that never say hello
//                         (not online, so no presence), for the memory of a bare connection
//   --pairs N [50]        sender/receiver pairs of a relay phase
//   --duration S [8]      sending time of a relay phase
//   --rate R [40]         ws-relay: messages/s per sender
//   --payload B [1000]    bytes of the `sdp` string in each relayed message
//   --concurrency C [64]  sign-ins / WebSocket handshakes in flight at once
//   --sources K [16]      spread client source addresses over 127.0.0.2..127.0.0.(K+1)
//   --time-limit S [120]  hard bound of the phase; what was reached by then is reported
//   --settle S [1]        wait before each memory reading
//   --deflate             offer permessage-deflate on /ws (browsers do; off by default)
//   --clk-tck N [100]     kernel clock ticks per second, for the server's CPU time
//
// Every loop is bounded by --time-limit; every socket is closed on exit. Loopback only.

import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

// --- options ----------------------------------------------------------------------------------
const defaults = {
    host: '127.0.0.1', port: 0, pid: 0, clients: 1000, pairs: 50, duration: 8, rate: 40,
    payload: 1000, concurrency: 64, sources: 16, 'time-limit': 120, settle: 1, deflate: false,
    'clk-tck': 100, idle: 0, arrivals: 'serial',
};
const opt = { ...defaults };
let phase = '';
{
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) {
            if (phase) usage(`one phase only, not '${a}'`);
            phase = a;
            continue;
        }
        let [key, value] = a.slice(2).split(/=(.*)/s);
        if (!(key in defaults)) usage(`unknown option --${key}`);
        if (typeof defaults[key] === 'boolean') {
            opt[key] = true;
            continue;
        }
        if (value === undefined) value = argv[++i];
        if (key === 'host' || key === 'arrivals') opt[key] = value;
        else if (!/^\d+(\.\d+)?$/.test(value ?? '')) usage(`--${key} needs a number`);
        else opt[key] = Number(value);
    }
    if (!['lp-hold', 'ws-hold', 'lp-relay', 'ws-relay'].includes(phase)) usage('which phase?');
    if (!opt.port) usage('--port is needed');
    if (opt.sources > 250) usage('--sources is at most 250');
    if (!['serial', 'burst'].includes(opt.arrivals)) usage('--arrivals is serial or burst');
}
function usage(why) {
    console.error(`load.mjs: ${why}\nusage: node load.mjs lp-hold|ws-hold|lp-relay|ws-relay ` +
        '--port P --pid PID [--clients N] [--pairs N] [--duration S] [--rate R] [...]');
    process.exit(2);
}

const started = performance.now();
const deadline = started + opt['time-limit'] * 1000;
const since = (t) => (performance.now() - t) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(`[${since(started).toFixed(1).padStart(6)} s] ${phase}:`, ...a);

// --- the server, from /proc ---------------------------------------------------------------------
function serverAlive() {
    return !opt.pid || fs.existsSync(`/proc/${opt.pid}/status`);
}
function serverStatus() { // VmRSS and RssAnon in KiB, descriptors open
    if (!opt.pid) return { rss: 0, anon: 0, fds: 0 };
    try {
        const t = fs.readFileSync(`/proc/${opt.pid}/status`, 'utf8');
        const kib = (k) => Number(t.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
        let fds = 0;
        try { fds = fs.readdirSync(`/proc/${opt.pid}/fd`).length; } catch { /* gone */ }
        return { rss: kib('VmRSS'), anon: kib('RssAnon'), fds };
    } catch {
        return { rss: 0, anon: 0, fds: 0 };
    }
}
function serverTicks() { // utime + stime of all the server's threads
    if (!opt.pid) return 0;
    try {
        const s = fs.readFileSync(`/proc/${opt.pid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return Number(f[11]) + Number(f[12]);
    } catch {
        return 0;
    }
}

// The load generator's own CPU time, seconds (to tell when it, not the server, is the limit).
const genCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// An error whose `code` names what went wrong, counted by pool() and the phases.
const failure = (code, message = code) => Object.assign(new Error(message), { code });

// --- counters for what went wrong ---------------------------------------------------------------
const problems = new Map(); // what -> count
function problem(what) { problems.set(what, (problems.get(what) ?? 0) + 1); }
function problemText() {
    return [...problems].map(([k, v]) => `${k}:${v}`).join(',') || 'none';
}

// Source addresses: 127.0.0.2 .. 127.0.0.(K+1), round robin (more 4-tuples on loopback).
let sourceAt = 0;
function nextSource() {
    if (!opt.sources) return undefined;
    sourceAt = (sourceAt % opt.sources) + 1;
    return `127.0.0.${sourceAt + 1}`;
}

// Runs fn(item) for every item with at most `limit` in flight; stops starting new ones after
// the deadline.
async function pool(items, limit, fn) {
    let next = 0;
    async function worker() {
        while (next < items.length && performance.now() < deadline && serverAlive()) {
            const item = items[next++];
            try { await fn(item); } catch (e) { problem(e.code ?? e.message); }
        }
    }
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// Polls cond() every 50 ms until it holds, the deadline passes, progress() stops changing for
// stallMs, or the server exits. Logs progress every 5 s.
async function waitFor(cond, progress, what, stallMs = 15000) {
    let last = progress(), lastChange = performance.now(), lastLog = performance.now();
    for (;;) {
        if (cond()) return 'done';
        if (!serverAlive()) return 'server exited';
        const now = performance.now();
        if (now > deadline) return 'time limit';
        const p = progress();
        if (p !== last) { last = p; lastChange = now; }
        if (now - lastChange > stallMs) return `no progress for ${stallMs / 1000} s`;
        if (now - lastLog >= 5000) {
            lastLog = now;
            const st = serverStatus();
            log(`${what}: ${p}; server VmRSS ${st.rss} KiB, ${st.fds} fds`);
        }
        await sleep(50);
    }
}

function percentile(sorted, p) {
    if (!sorted.length) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

// A string of `n` characters that looks like SDP, for the relayed messages.
function fakeSdp(n) {
    const line = 'a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host generation 0\\r\\n';
    return ('v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\n' + line.repeat(1 + n / 60))
        .slice(0, n);
}

// --- long-poll client ---------------------------------------------------------------------------
// One HTTP/1.0 request on a connection of its own, as the native client sends them (no Host
// header), resolved with the response once Content-Length bytes of body are in. The server is
// expected to close the connection after the response (it says Connection: close); the
// connection is left for the server to close, so that TIME_WAIT stays on its side and the
// client's ephemeral ports are free again at once. One that is still open 3 s after its
// response is counted and closed.
const openSockets = new Set();
function lpRequest(path, body) {
    return new Promise((resolve, reject) => {
        const sock = net.connect({ host: opt.host, port: opt.port, localAddress: nextSource() });
        openSockets.add(sock);
        sock.setNoDelay(true);
        const head = body === undefined ? `GET ${path} HTTP/1.0\r\n\r\n`
            : `POST ${path} HTTP/1.0\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
              `Content-Type: text/plain\r\n\r\n${body}`;
        sock.write(head);
        let buf = Buffer.alloc(0), headerEnd = -1, need = -1, status = 0, headers = null;
        let done = false, finTimer = null;
        sock.on('data', (d) => {
            if (done) {
                problem('lp:bytes-after-response');
                return;
            }
            buf = buf.length ? Buffer.concat([buf, d]) : d;
            if (headerEnd < 0) {
                headerEnd = buf.indexOf('\r\n\r\n');
                if (headerEnd < 0) return;
                const lines = buf.subarray(0, headerEnd).toString('latin1').split('\r\n');
                status = Number(lines[0].split(' ')[1]);
                headers = {};
                for (const l of lines.slice(1)) {
                    const c = l.indexOf(':');
                    if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
                }
                need = headers['content-length'] === undefined ? -1
                    : headerEnd + 4 + Number(headers['content-length']);
                if (need < 0) problem('lp:no-content-length');
            }
            if (need >= 0 && buf.length >= need) {
                done = true;
                resolve({ status, headers, body: buf.subarray(headerEnd + 4, need).toString(),
                    at: performance.now() });
                finTimer = setTimeout(() => {
                    problem('lp:server-kept-connection-open');
                    sock.destroy();
                }, 3000);
            }
        });
        sock.on('error', (e) => {
            if (!done) {
                done = true;
                reject(Object.assign(new Error(e.message), { code: `lp:${e.code ?? e.message}` }));
            }
        });
        sock.on('close', () => {
            openSockets.delete(sock);
            clearTimeout(finTimer);
            if (!done) {
                done = true;
                if (headerEnd >= 0 && need < 0) { // no Content-Length: the body ends at close
                    resolve({ status, headers, body: buf.subarray(headerEnd + 4).toString(),
                        at: performance.now() });
                } else {
                    reject(Object.assign(new Error('closed before a full response'),
                        { code: 'lp:closed-before-response' }));
                }
            }
        });
    });
}

let stopping = false;
let lpNotifications = 0, lpMessages = 0, lpWaiting = 0;

// One-at-a-time arrivals wait for a condition that the message handlers make true: they poke
// after every counted event, and the waiter is resumed as soon as it holds.
let waker = null;
function poke() {
    if (waker && waker.cond()) {
        const w = waker;
        waker = null;
        clearTimeout(w.timer);
        w.resolve(true);
    }
}
function until(cond, ms) {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
        waker = { cond, resolve, timer: setTimeout(() => { waker = null; resolve(false); }, ms) };
    });
}

class LpClient {
    constructor(name) {
        this.name = name;
        this.id = 0;
        this.waiting = false; // a /wait is out (parked at the server, or on its way)
        this.failed = '';
        this.onMessage = null;
    }

    async signIn() {
        const r = await lpRequest(`/sign_in?${this.name}`);
        if (r.status !== 200) throw failure(`lp:sign_in-${r.status}`);
        this.id = Number(r.headers.pragma);
        if (!this.id) throw failure('lp:sign_in-no-pragma');
        this.listed = r.body.split('\n').length - 1;
    }

    // The hanging get, re-issued after every response until the phase stops. A response
    // whose Pragma is the client's own id is a notification, any other is a message from the
    // peer of that id. A non-200 ends it, as in the native client.
    async poll() {
        while (!stopping && performance.now() < deadline) {
            this.waiting = true;
            ++lpWaiting;
            poke();
            let r;
            try {
                r = await lpRequest(`/wait?peer_id=${this.id}`);
            } catch (e) {
                this.waiting = false;
                --lpWaiting;
                if (stopping) return;
                problem(`${e.code}(wait)`);
                await sleep(100);
                continue;
            }
            this.waiting = false;
            --lpWaiting;
            if (r.status !== 200) {
                problem(`lp:wait-${r.status}`);
                this.failed = `wait answered ${r.status}`;
                return;
            }
            if (Number(r.headers.pragma) === this.id) ++lpNotifications; // poked at the next /wait
            else {
                ++lpMessages;
                this.onMessage?.(r);
            }
        }
    }
}

// --- WebSocket client ---------------------------------------------------------------------------
let wsJoined = 0, wsOther = 0;
class WsPeer {
    constructor(name) {
        this.name = name;
        this.id = 0;
        this.ws = null;
        this.onRelayed = null;
    }

    // Connects, says hello and resolves with the welcome.
    open() {
        return new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://${opt.host}:${opt.port}/ws`, {
                perMessageDeflate: opt.deflate, localAddress: nextSource(),
                handshakeTimeout: 30000,
            });
            this.ws = ws;
            let welcomed = false;
            ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: this.name })));
            ws.on('message', (data) => {
                // peer-joined is most of what a held client gets: counted without parsing.
                if (welcomed && data.length < 300 && data.indexOf('"peer-joined"') >= 0) {
                    ++wsJoined;
                    poke();
                    return;
                }
                let m;
                try { m = JSON.parse(data); } catch { problem('ws:bad-json-from-server'); return; }
                if (!welcomed) {
                    if (m.type !== 'welcome') {
                        reject(Object.assign(new Error('no welcome'),
                            { code: `ws:hello-answered-${m.type}${m.code ? `-${m.code}` : ''}` }));
                        ws.terminate();
                        return;
                    }
                    welcomed = true;
                    this.id = m.id;
                    this.listed = m.peers?.length ?? 0;
                    resolve(this);
                    return;
                }
                if (m.type === 'error') problem(`ws:error-${m.code}`);
                else if (m.type === 'peer-left') problem('ws:peer-left');
                else if (this.onRelayed && m.from !== undefined) this.onRelayed(m);
                else ++wsOther;
            });
            ws.on('error', (e) => {
                if (!welcomed) reject(failure(`ws:${e.code ?? e.message}`));
                else if (!stopping) problem(`ws:${e.code ?? e.message}`);
            });
            ws.on('close', (code) => {
                if (!welcomed) reject(failure(`ws:closed-${code}-before-welcome`));
                else if (!stopping) problem(`ws:closed-by-server-${code}`);
            });
        });
    }
}

// --- phases -------------------------------------------------------------------------------------
const result = {};
function printResult() {
    result.peak_rss_kib = Math.max(peakRss, serverStatus().rss);
    result.problems = problemText();
    console.log('RESULT ' + Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' '));
}

let peakRss = 0;
setInterval(() => { peakRss = Math.max(peakRss, serverStatus().rss); }, 200).unref();

async function baseline() {
    await sleep(opt.settle * 1000);
    const st = serverStatus();
    result.rss0_kib = st.rss;
    result.anon0_kib = st.anon;
    result.fds0 = st.fds;
    log(`server before: VmRSS ${st.rss} KiB (RssAnon ${st.anon} KiB), ${st.fds} descriptors`);
}

// Memory with the clients held, per client: over `base` (the reading before them).
async function held(n, what, base = { rss: result.rss0_kib, anon: result.anon0_kib }) {
    await sleep(opt.settle * 1000);
    const st = serverStatus();
    result.rss1_kib = st.rss;
    result.anon1_kib = st.anon;
    result.fds1 = st.fds;
    result.bytes_per_client = n > 0 ? Math.round(((st.rss - base.rss) * 1024) / n) : '-';
    result.anon_bytes_per_client = n > 0 ? Math.round(((st.anon - base.anon) * 1024) / n) : '-';
    log(`server with ${n} ${what} held: VmRSS ${st.rss} KiB (RssAnon ${st.anon} KiB), ` +
        `${st.fds} descriptors: ${result.bytes_per_client} bytes/client ` +
        `(RssAnon ${result.anon_bytes_per_client})`);
}

async function lpHold() {
    const n = opt.clients;
    await baseline();
    const clients = Array.from({ length: n }, (_, i) => new LpClient(`lp${i}`));
    const t0 = performance.now(), c0 = serverTicks(), g0 = genCpu();
    let signedIn = 0;
    if (opt.arrivals === 'serial') {
        // One at a time: the next signs in once everyone has the notification of the
        // previous one and has parked its /wait again.
        let lastLog = performance.now();
        for (const c of clients) {
            if (performance.now() > deadline || !serverAlive()) break;
            if (performance.now() - lastLog > 5000) {
                lastLog = performance.now();
                log(`${signedIn} signed in, ${lpNotifications} notifications; server VmRSS ` +
                    `${serverStatus().rss} KiB`);
            }
            try {
                await c.signIn();
            } catch (e) {
                problem(e.code ?? e.message);
                break;
            }
            ++signedIn;
            c.loop = c.poll();
            const want = (signedIn * (signedIn - 1)) / 2;
            if (!await until(() => lpNotifications >= want && lpWaiting === signedIn, 10000)) {
                problem('lp:arrival-not-settled-in-10s');
                break;
            }
        }
    } else {
        await pool(clients, opt.concurrency, async (c) => {
            await c.signIn();
            ++signedIn;
            c.loop = c.poll();
        });
    }
    result.sign_in_s = fmt(since(t0));
    log(`${signedIn}/${n} signed in after ${result.sign_in_s} s; notifications so far ` +
        `${lpNotifications}`);
    const expected = (signedIn * (signedIn - 1)) / 2;
    const parked = () => clients.reduce((k, c) => k + (c.waiting ? 1 : 0), 0);
    const outcome = await waitFor(() => lpNotifications >= expected && parked() === signedIn,
        () => `${lpNotifications}/${expected} notifications, ${parked()} waits out`,
        'presence');
    result.settled_s = fmt(since(t0));
    result.cpu_s = fmt((serverTicks() - c0) / opt['clk-tck']);
    result.gen_cpu_s = fmt(genCpu() - g0);
    result.clients = n;
    result.arrivals = opt.arrivals;
    result.signed_in = signedIn;
    result.notifications = lpNotifications;
    result.expected_notifications = expected;
    result.notifications_per_s = fmt(lpNotifications / since(t0), 0);
    result.outcome = outcome.replaceAll(' ', '_');
    log(`${outcome} after ${result.settled_s} s: ${lpNotifications}/${expected} notifications ` +
        `delivered (${result.notifications_per_s}/s), ${parked()} of ${signedIn} /wait parked; ` +
        `CPU: server ${result.cpu_s} s, load generator ${result.gen_cpu_s} s`);
    const failed = clients.filter((c) => c.failed).length;
    if (failed) log(`${failed} clients stopped polling (${clients.find((c) => c.failed).failed})`);
    result.held = outcome === 'done' ? parked() - failed : 0;
    await held(signedIn, 'long-poll clients');
    result.parked_at_end = parked();
}

async function wsHold() {
    const n = opt.clients;
    await baseline();
    if (opt.idle) await holdIdle(opt.idle);
    const peers = Array.from({ length: n }, (_, i) => new WsPeer(`ws${i}`));
    const t0 = performance.now(), c0 = serverTicks(), g0 = genCpu();
    let welcomed = 0;
    if (opt.arrivals === 'serial') {
        // One at a time: the next says hello once everyone has its peer-joined.
        let lastLog = performance.now();
        for (const p of peers) {
            if (performance.now() > deadline || !serverAlive()) break;
            if (performance.now() - lastLog > 5000) {
                lastLog = performance.now();
                log(`${welcomed} welcomed, ${wsJoined} peer-joined; server VmRSS ` +
                    `${serverStatus().rss} KiB`);
            }
            try {
                await p.open();
            } catch (e) {
                problem(e.code ?? e.message);
                break;
            }
            ++welcomed;
            const want = (welcomed * (welcomed - 1)) / 2;
            if (!await until(() => wsJoined >= want, 10000)) {
                problem('ws:arrival-not-settled-in-10s');
                break;
            }
        }
    } else {
        await pool(peers, opt.concurrency, async (p) => {
            await p.open();
            ++welcomed;
        });
    }
    result.welcome_s = fmt(since(t0));
    log(`${welcomed}/${n} welcomed after ${result.welcome_s} s; peer-joined so far ${wsJoined}`);
    const expected = (welcomed * (welcomed - 1)) / 2;
    const outcome = await waitFor(() => wsJoined >= expected,
        () => `${wsJoined}/${expected} peer-joined`, 'presence');
    result.settled_s = fmt(since(t0));
    result.cpu_s = fmt((serverTicks() - c0) / opt['clk-tck']);
    result.gen_cpu_s = fmt(genCpu() - g0);
    result.clients = n;
    result.arrivals = opt.arrivals;
    result.welcomed = welcomed;
    result.joined = wsJoined;
    result.expected_joined = expected;
    result.joined_per_s = fmt(wsJoined / since(t0), 0);
    result.outcome = outcome.replaceAll(' ', '_');
    result.deflate = peers.some((p) => p.ws?.extensions?.includes('deflate')) ? 1 : 0;
    const open = () => peers.filter((p) => p.ws?.readyState === WebSocket.OPEN).length;
    log(`${outcome} after ${result.settled_s} s: ${wsJoined}/${expected} peer-joined delivered ` +
        `(${result.joined_per_s}/s), ${open()} connections open; CPU: server ${result.cpu_s} s, ` +
        `load generator ${result.gen_cpu_s} s`);
    result.held = outcome === 'done' ? open() : 0;
    // Per client online: over the reading with the bare connections held, when there are some.
    await held(welcomed, 'online WebSocket clients', opt.idle
        ? { rss: result.rss_idle_kib, anon: result.anon_idle_kib }
        : { rss: result.rss0_kib, anon: result.anon0_kib });
    result.open_at_end = open();
    for (const p of peers) p.ws?.terminate();
    for (const ws of idleSockets) ws.terminate();
}

// WebSocket connections that never say hello: not online, so nobody hears of them. What one
// costs the server beyond that is the socket, the WebSocket stream and the room's entry.
const idleSockets = [];
async function holdIdle(n) {
    const t0 = performance.now();
    let up = 0;
    await pool(Array.from({ length: n }), opt.concurrency, () => new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${opt.host}:${opt.port}/ws`, {
            perMessageDeflate: opt.deflate, localAddress: nextSource(), handshakeTimeout: 30000,
        });
        idleSockets.push(ws);
        ws.on('open', () => { ++up; resolve(); });
        ws.on('error', (e) => reject(failure(`ws-idle:${e.code ?? e.message}`)));
        ws.on('close', (code) => {
            if (!stopping) problem(`ws-idle:closed-${code}`);
            reject(Object.assign(new Error('closed'), { code: `ws-idle:closed-${code}` }));
        });
        ws.on('message', () => problem('ws-idle:got-a-message'));
    }));
    result.idle = n;
    result.idle_up = up;
    result.idle_s = fmt(since(t0));
    await sleep(opt.settle * 1000);
    const st = serverStatus();
    const open = idleSockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
    result.idle_held = open;
    result.rss_idle_kib = st.rss;
    result.anon_idle_kib = st.anon;
    result.bytes_per_idle = open ? Math.round(((st.rss - result.rss0_kib) * 1024) / open) : '-';
    log(`${open} of ${n} idle WebSocket connections held (opened in ${result.idle_s} s): ` +
        `VmRSS ${st.rss} KiB (RssAnon ${st.anon} KiB), ${st.fds} descriptors: ` +
        `${result.bytes_per_idle} bytes/connection`);
}

// Latencies of relayed messages, ms, bounded in number.
class Latencies {
    constructor(max) { this.v = new Float64Array(max); this.n = 0; }
    add(ms) { if (this.n < this.v.length) this.v[this.n++] = ms; }
    summary() {
        const s = this.v.slice(0, this.n).sort();
        return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99),
            max: s.length ? s[s.length - 1] : NaN };
    }
}

function relayResult(sent, received, seconds, ticks, gen, lat, prefix = '') {
    const l = lat.summary();
    const r = {
        gen_cpu_pct: fmt(gen * 100 / seconds, 0),
        sent, received, seconds: fmt(seconds), msgs_per_s: fmt(received / seconds, 0),
        p50_ms: fmt(l.p50), p90_ms: fmt(l.p90), p99_ms: fmt(l.p99), max_ms: fmt(l.max),
        cpu_us_per_msg: received ? fmt((ticks / opt['clk-tck']) * 1e6 / received) : '-',
        cpu_pct: fmt((ticks / opt['clk-tck']) * 100 / seconds, 0),
    };
    for (const [k, v] of Object.entries(r)) result[prefix + k] = v;
    log(`${sent} sent, ${received} received in ${r.seconds} s: ${r.msgs_per_s} ` +
        `messages/s; latency p50 ${r.p50_ms} ms, p90 ${r.p90_ms}, p99 ${r.p99_ms}, ` +
        `max ${r.max_ms}; server CPU ${r.cpu_pct} % of a core, ` +
        `${r.cpu_us_per_msg} us/message; load generator CPU ${r.gen_cpu_pct} %`);
}

async function lpRelay() {
    const p = opt.pairs;
    const sdp = fakeSdp(opt.payload);
    const clients = Array.from({ length: 2 * p }, (_, i) => new LpClient(`lpr${i}`));
    await pool(clients, opt.concurrency, async (c) => {
        await c.signIn();
        c.loop = c.poll(); // senders poll too: they are members, and get presence like anyone
    });
    const signed = clients.filter((c) => c.id).length;
    const expected = (signed * (signed - 1)) / 2;
    const presence = await waitFor(() => lpNotifications >= expected,
        () => `${lpNotifications}/${expected} notifications`, 'presence');
    log(`${signed} clients signed in; presence ${presence}`);
    if (signed < 2 * p) { result.outcome = 'sign-in_failed'; return; }

    const lat = new Latencies(4_000_000);
    let received = 0, sent = 0, refused = 0, measuring = true, lastAt = 0;
    for (let i = 0; i < p; i++) {
        clients[p + i].onMessage = (r) => {
            const t = Number(r.body.slice(r.body.indexOf('"t":') + 4, r.body.indexOf(',"sdp"')));
            if (!measuring) return;
            ++received;
            lastAt = r.at;
            lat.add(r.at - t);
        };
    }
    const t0 = performance.now(), c0 = serverTicks(), g0 = genCpu();
    const until = Math.min(t0 + opt.duration * 1000, deadline);
    await Promise.all(clients.slice(0, p).map(async (a, i) => {
        const b = clients[p + i];
        let seq = 0;
        while (performance.now() < until && !stopping) {
            const body = `{"type":"offer","seq":${seq++},"t":${performance.now()},"sdp":"${sdp}"}`;
            try {
                const r = await lpRequest(`/message?peer_id=${a.id}&to=${b.id}`, body);
                if (r.status === 200) ++sent;
                else { ++refused; problem(`lp:message-${r.status}`); }
            } catch (e) {
                problem(`${e.code}(message)`);
                await sleep(10);
            }
        }
    }));
    // What is still on its way when sending stops is counted, up to the last one received.
    const sendEnd = performance.now();
    await waitFor(() => received >= sent, () => received, 'draining', 3000);
    const seconds = (Math.max(sendEnd, lastAt) - t0) / 1000;
    measuring = false;
    result.pairs = p;
    result.refused = refused;
    relayResult(sent, received, seconds, serverTicks() - c0, genCpu() - g0, lat);
    result.outcome = received === sent ? 'done' : 'lost_messages';
}

async function wsRelay() {
    const p = opt.pairs;
    const sdp = fakeSdp(opt.payload);
    const peers = Array.from({ length: 2 * p }, (_, i) => new WsPeer(`wsr${i}`));
    await pool(peers, opt.concurrency, (x) => x.open());
    const up = peers.filter((x) => x.id).length;
    const expected = (up * (up - 1)) / 2;
    const presence = await waitFor(() => wsJoined >= expected,
        () => `${wsJoined}/${expected} peer-joined`, 'presence');
    log(`${up} clients welcomed; presence ${presence}`);
    if (up < 2 * p) { result.outcome = 'hello_failed'; return; }

    result.pairs = p;
    result.rate_per_sender = opt.rate;
    // Two steps on the same clients: half the senders, then all of them.
    const half = Math.max(1, Math.floor(p / 2));
    result.half_pairs = half;
    log(`step 1: ${half} senders x ${opt.rate}/s for ${opt.duration} s`);
    const first = await wsRelayStep(peers, half, sdp, 'half_');
    if (first && !stopping) {
        await sleep(1000); // the senders' rate buckets fill up again
        log(`step 2: ${p} senders x ${opt.rate}/s for ${opt.duration} s`);
        await wsRelayStep(peers, p, sdp, '');
    }
    for (const x of peers) x.ws?.terminate();
}

// One open-loop step: senders 0..k-1 send `offer`s to their receivers (p+i) at opt.rate each.
async function wsRelayStep(peers, k, sdp, prefix) {
    const p = peers.length / 2;
    const lat = new Latencies(Math.ceil(k * opt.rate * (opt.duration + 1) * 1.1));
    let received = 0, sent = 0, measuring = true, lastAt = 0;
    for (let i = 0; i < p; i++) {
        peers[p + i].onRelayed = (m) => {
            if (!measuring) return;
            ++received;
            lastAt = performance.now();
            lat.add(lastAt - m.t);
        };
    }
    // Open loop: every 10 ms each sender sends what is due at `rate` per second since t0.
    // The server allows 50 a second per client with bursts of 200 (docs/signaling.md).
    const t0 = performance.now(), c0 = serverTicks(), g0 = genCpu();
    const until = Math.min(t0 + opt.duration * 1000, deadline);
    const count = new Array(k).fill(0);
    let slow = 0;
    await new Promise((resolve) => {
        const tick = setInterval(() => {
            const now = performance.now();
            if (now >= until || stopping) {
                clearInterval(tick);
                resolve();
                return;
            }
            const due = Math.floor(((now - t0) / 1000) * opt.rate);
            for (let i = 0; i < k; i++) {
                const ws = peers[i].ws;
                if (ws.readyState !== WebSocket.OPEN) continue;
                if (ws.bufferedAmount > 1 << 20) { ++slow; continue; } // server not reading
                while (count[i] < due) {
                    ws.send(`{"type":"offer","to":${peers[p + i].id},"seq":${count[i]++},` +
                        `"t":${performance.now()},"sdp":"${sdp}"}`);
                    ++sent;
                }
            }
        }, 10);
    });
    // What is still on its way when sending stops is counted, up to the last one received.
    const sendEnd = performance.now();
    await waitFor(() => received >= sent, () => received, 'draining', 3000);
    const seconds = (Math.max(sendEnd, lastAt) - t0) / 1000;
    measuring = false;
    result[prefix + 'offered_per_s'] = k * opt.rate;
    if (slow) problem('ws:send-buffer-over-1MiB');
    relayResult(sent, received, seconds, serverTicks() - c0, genCpu() - g0, lat, prefix);
    const ok = received === sent;
    if (prefix === '' || !ok) result.outcome = ok ? 'done' : 'lost_messages';
    return ok;
}

// --- main ---------------------------------------------------------------------------------------
const phases = { 'lp-hold': lpHold, 'ws-hold': wsHold, 'lp-relay': lpRelay, 'ws-relay': wsRelay };
let exitCode = 0;
try {
    await phases[phase]();
} catch (e) {
    log(`failed: ${e.stack ?? e}`);
    result.outcome = 'error';
    exitCode = 1;
}
if (!serverAlive()) {
    result.outcome = 'server_exited';
    log('the server exited during the phase');
    exitCode = 1;
}
stopping = true;
result.elapsed_s = fmt(since(started));
printResult();
for (const s of openSockets) s.destroy();
process.exit(exitCode);
