// browser.call_relay: the same call with ?relay=1 on both pages, so media and data go through
// Strowger's TURN relay (the selected candidate pair must be relay to relay); bob hangs up.
import { callScenario } from "./call_scenario.mjs";

await callScenario({ relay: true, fileBytes: 5 * 1024 * 1024, hangsUp: "bob" });
