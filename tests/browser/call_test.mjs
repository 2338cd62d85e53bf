// browser.call: a direct call between two Chromium pages through a real strowger: media both
// ways, chat, a 5 MB file checked with SHA-256, alice hangs up; then a taken name, a declined
// call, a call that ends when the partner's page goes away (peer-left), and the server going
// away while alice is online.
import { callScenario } from "./call_scenario.mjs";

await callScenario({ relay: false, fileBytes: 5 * 1024 * 1024, hangsUp: "alice", extras: true });
