#!/usr/bin/env bash
# WebRTC signaling benchmark: strowger's HTTP service under many held clients and relayed
# messages, for both signaling protocols it serves: libwebrtc's peerconnection_server long
# poll (/sign_in, /wait, /message) and the WebSocket JSON signaling at /ws. Prints figures;
# there is no incumbent in the same run (libwebrtc's peerconnection_server is not packaged).
#
# Usage: bench/signaling/run.sh [STROWGER_BINARY] [--only lp|ws] [--lp-clients N]
#                               [--ws-clients N] [--ws-idle N] [--arrivals serial|burst]
#                               [--lp-pairs N] [--ws-pairs N] [--ws-rate R] [--duration S]
#   STROWGER_BINARY defaults to $STROWGER_BIN, else build/bench/src/app/strowger (a Release
#   build; relative paths are tried from the current directory, then from the repository
#   root). --only runs the phases of one protocol. Defaults: --lp-clients 1000,
#   --ws-clients 1000 (online: hello and welcome), --ws-idle 9000 (WebSocket connections
#   held beside them that never say hello), --arrivals serial (each client signs in once the
#   previous one's presence has reached everyone; burst: all at once, 64 in flight),
#   --lp-pairs 50, --ws-pairs 500, --ws-rate 40 (messages/s per sender; the server allows 50
#   with bursts of 200), --duration 8 (seconds of each relay load).
#
# Phases, each on a fresh server (bench/signaling/README.md tells how each figure is taken):
#   lp-hold   long-poll clients sign in and keep a /wait parked, re-issuing it after every
#             response as libwebrtc's client does: time until all are in and every presence
#             notification is delivered, and server memory per client
#   ws-hold   WebSocket connections that never say hello are opened and held (memory per
#             bare connection), then clients say hello and get their welcome and every
#             peer-joined: the same figures as lp-hold, with both kinds held at once
#   lp-relay  pairs of long-poll clients: POST /message -> the receiver's /wait, one message
#             at a time per sender: messages/s, latency, server CPU per message
#   ws-relay  pairs of WebSocket clients: `offer` messages at a fixed rate per sender, first
#             from half the senders, then from all: messages/s, latency, server CPU per
#             message
# Presence is quadratic in both protocols: every sign-in is announced to everyone online,
# so N clients cost N(N-1)/2 notifications. Over long poll each one is a TCP connection of
# its own (a /wait answered with one notification). 10,000 online clients of either kind
# would mean 50 million notifications, hours over long poll and minutes over WebSocket on
# this machine, so 1000 clients are online in each hold, and the 10,000 WebSocket connections
# held at once are 9000 bare ones and the 1000 online (README: "Why not 10,000 online").
#
# Memory is the server's VmRSS (/proc/PID/status) before the clients and with all of them
# held, divided by their number. The clients of one kind are held at a time (10,000 of a
# kind need more than 10,000 descriptors in the server and as many in the load generator).
# Every load is bounded in count and time; everything runs on 127.0.0.1 (clients bind
# 127.0.0.2-17); the server is stopped by PID after each phase.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib.sh"
here=$root/bench/signaling

strowger_bin=
only=
lp_clients=1000
ws_clients=1000
ws_idle=9000
arrivals=serial
lp_pairs=50
ws_pairs=500
ws_rate=40
duration=8
while (($#)); do
    case $1 in
    --only | --lp-clients | --ws-clients | --ws-idle | --arrivals | --lp-pairs | --ws-pairs | \
        --ws-rate | --duration)
        need_value "$@"
        opt=${1#--}
        declare "${opt//-/_}=$2"
        shift 2
        ;;
    --only=* | --lp-clients=* | --ws-clients=* | --ws-idle=* | --arrivals=* | --lp-pairs=* | \
        --ws-pairs=* | --ws-rate=* | --duration=*)
        opt=${1%%=*}
        opt=${opt#--}
        declare "${opt//-/_}=${1#*=}"
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    -*)
        echo "unknown option $1 (see --help)" >&2
        exit 2
        ;;
    *)
        if [[ -n $strowger_bin ]]; then
            echo "one STROWGER_BINARY only (see --help)" >&2
            exit 2
        fi
        strowger_bin=$1
        shift
        ;;
    esac
done
case $only in
'') kinds=(lp ws) ;;
lp | ws) kinds=("$only") ;;
*)
    echo "--only takes lp or ws, not '$only'" >&2
    exit 2
    ;;
esac
in_range --lp-clients "$lp_clients" 2 20000
in_range --ws-clients "$ws_clients" 2 20000
in_range --ws-idle "$ws_idle" 0 20000
case $arrivals in
serial | burst) ;;
*)
    echo "--arrivals takes serial or burst, not '$arrivals'" >&2
    exit 2
    ;;
esac
in_range --lp-pairs "$lp_pairs" 1 1000
in_range --ws-pairs "$ws_pairs" 1 5000
in_range --ws-rate "$ws_rate" 1 1000
in_range --duration "$duration" 1 60

strowger_bin=${strowger_bin:-${STROWGER_BIN:-build/bench/src/app/strowger}}
if [[ $strowger_bin != /* && ! -e $strowger_bin && -e $root/$strowger_bin ]]; then
    strowger_bin=$root/$strowger_bin
fi
if [[ ! -x $strowger_bin ]]; then
    echo "missing $strowger_bin; build it first, or pass the binary:" >&2
    echo "  cmake -S $root -B $root/build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release" \
        "-DSTROWGER_TESTS=OFF && ninja -C $root/build/bench strowger" >&2
    exit 1
fi
if ! command -v node >/dev/null || (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
    echo "needs Node.js 20 or later (Debian package nodejs)" >&2
    exit 1
fi
if [[ ! -d $here/node_modules/ws ]]; then
    command -v npm >/dev/null || { echo "npm not found (Debian package npm)" >&2; exit 1; }
    echo "installing the load generator's dependencies (npm ci in $here)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Each held client is a socket in the server and one in the load generator (a process each).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
descriptors=$(ulimit -n)
for kind in "${kinds[@]}"; do
    held=$lp_clients
    [[ $kind == ws ]] && held=$((ws_clients + ws_idle))
    if [[ $descriptors != unlimited ]] && ((held + 1000 > descriptors)); then
        echo "the open-files limit is $descriptors (hard limit $(ulimit -Hn)); holding $held" \
            "$kind clients needs $held + 1000: raise the hard limit or hold fewer" >&2
        exit 1
    fi
done

clk_tck=$(getconf CLK_TCK)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strowger-signaling-bench.XXXXXX")
server_pid=
stop_server() { # SIGTERM, then SIGKILL after 10 s; sets server_status
    server_status=
    [[ -n $server_pid ]] || return 0
    if running "$server_pid"; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            running "$server_pid" || break
            sleep 0.1
        done
        if running "$server_pid"; then
            echo "server (pid $server_pid) still running 10 s after SIGTERM: SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
            server_status=killed
        fi
    else
        server_status=exited-early
    fi
    local rc=0
    wait "$server_pid" 2>/dev/null || rc=$?
    [[ -n $server_status ]] || server_status=$rc
    [[ $server_status == exited-early ]] && server_status="exited early with status $rc"
    server_pid=
}
cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pick_ports() { # tcp udp udp: loopback ports free right now (the kernel picks them)
    node -e '
const net = require("node:net"), dgram = require("node:dgram");
(async () => {
    const out = [];
    const t = net.createServer();
    await new Promise((r) => t.listen(0, "127.0.0.1", r));
    out.push(t.address().port);
    const us = [];
    for (let i = 0; i < 2; i++) {
        const u = dgram.createSocket("udp4");
        await new Promise((r) => u.bind(0, "127.0.0.1", r));
        out.push(u.address().port);
        us.push(u);
    }
    t.close();
    for (const u of us) u.close();
    console.log(out.join(" "));
})();'
}

start_server() { # PHASE
    local i
    read -r http_port stun_port sip_port < <(pick_ports)
    mkdir -p "$tmp/data-$1"
    server_log=$tmp/server-$1.log
    "$strowger_bin" serve --set "general.data_dir=$tmp/data-$1" --set general.threads=1 \
        --set "http.listen=[\"tcp:127.0.0.1:$http_port\"]" \
        --set "stun.listen=[\"udp:127.0.0.1:$stun_port\"]" \
        --set "sip.listen=[\"udp:127.0.0.1:$sip_port\"]" \
        --set log.level=info >"$server_log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 150; i++)); do
        if grep -q 'serving with 1 shards' "$server_log"; then return 0; fi
        running "$server_pid" || break
        sleep 0.1
    done
    echo "strowger did not start (no 'serving with 1 shards' within 15 s); its log:" >&2
    tail -20 "$server_log" >&2
    exit 1
}

declare -A result # result[PHASE,KEY]
# run_phase PHASE TIME_LIMIT ARGS...: a fresh server, one load.mjs phase, the server stopped.
run_phase() {
    local name=$1 limit=$2 out kv
    shift 2
    start_server "$name"
    echo "== $name: strowger pid $server_pid, http on 127.0.0.1:$http_port"
    out=$tmp/$name.out
    node "$here/load.mjs" "$name" --port "$http_port" --pid "$server_pid" \
        --clk-tck "$clk_tck" --time-limit "$limit" "$@" | tee "$out" || true
    local alive=1
    running "$server_pid" || alive=0
    stop_server
    for kv in $(grep '^RESULT ' "$out" | tail -1 | cut -d' ' -f2-); do
        result[$name,${kv%%=*}]=${kv#*=}
    done
    if ((!alive)); then
        echo "$name: strowger exited during the phase ($server_status); its log ends:" >&2
        tail -20 "$server_log" | sed 's/^/  /' >&2
        result[$name,outcome]=server_exited
    elif [[ $server_status != 0 ]]; then
        echo "$name: strowger stopped with status $server_status after SIGTERM; its log ends:" >&2
        tail -5 "$server_log" | sed 's/^/  /' >&2
    fi
    local warnings
    warnings=$(grep -ciE '\b(warn|warning|error|critical)\b' "$server_log" || true)
    if ((warnings)); then
        echo "$name: $warnings warning/error lines in the server's log; the first:"
        grep -iE '\b(warn|warning|error|critical)\b' "$server_log" | head -5 | sed 's/^/  /'
    fi
}

echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) at start; open-files limit" \
    "$descriptors; node $(node --version); strowger: $strowger_bin"
for kind in "${kinds[@]}"; do
    if [[ $kind == lp ]]; then
        run_phase lp-hold 180 --clients "$lp_clients" --arrivals "$arrivals"
        run_phase lp-relay 60 --pairs "$lp_pairs" --duration "$duration" --arrivals burst
    else
        run_phase ws-hold 180 --clients "$ws_clients" --idle "$ws_idle" --arrivals "$arrivals"
        run_phase ws-relay 60 --pairs "$ws_pairs" --rate "$ws_rate" --duration "$duration" \
            --arrivals burst
    fi
done

# --- the table --------------------------------------------------------------------------------
r() { echo "${result[$1,$2]:--}"; }
row() { # LABEL VALUE...
    local label=$1
    shift
    printf '%-60s %14s\n' "$label" "$*"
}
complete() { # PHASE: the phase's figure, or a note that it did not complete
    local o=${result[$1,outcome]:-none}
    if [[ $o == "done" ]]; then echo "$2"; else echo "$2 ($o)"; fi
}
echo
echo "Summary (strowger, 1 thread, 127.0.0.1; memory is the growth of the server's VmRSS" \
    "divided by the clients held; arrivals $arrivals)"
row figure value
for kind in "${kinds[@]}"; do
    if [[ $kind == lp ]]; then
        row "long-poll clients held (signed in, /wait parked)" \
            "$(complete lp-hold "$(r lp-hold held)/$(r lp-hold clients)")"
        row "  time until all are in and all presence delivered, s" "$(r lp-hold settled_s)"
        row "  presence notifications delivered (one /wait each)" "$(r lp-hold notifications)"
        row "  presence notifications/s" "$(r lp-hold notifications_per_s)"
        row "  CPU s, server / load generator" "$(r lp-hold cpu_s) / $(r lp-hold gen_cpu_s)"
        row "  server VmRSS before -> held (peak), KiB" \
            "$(r lp-hold rss0_kib) -> $(r lp-hold rss1_kib) ($(r lp-hold peak_rss_kib))"
        row "  bytes/long-poll client" "$(r lp-hold bytes_per_client)"
        row "long-poll /message relay, messages/s ($(r lp-relay pairs) pairs)" \
            "$(complete lp-relay "$(r lp-relay msgs_per_s)")"
        row "  latency p50 / p99, ms" "$(r lp-relay p50_ms) / $(r lp-relay p99_ms)"
        row "  server CPU us/message (% of a core)" \
            "$(r lp-relay cpu_us_per_msg) ($(r lp-relay cpu_pct))"
        row "  load generator CPU, % of a core" "$(r lp-relay gen_cpu_pct)"
    else
        row "WebSocket connections held at once (bare + online)" \
            "$(complete ws-hold "$(r ws-hold idle_held) + $(r ws-hold held)")"
        row "  bytes/bare connection (no hello)" "$(r ws-hold bytes_per_idle)"
        row "WebSocket clients online (hello, welcome, all peer-joined)" \
            "$(complete ws-hold "$(r ws-hold held)/$(r ws-hold clients)")"
        row "  time until all are welcomed and all presence delivered, s" \
            "$(r ws-hold settled_s)"
        row "  peer-joined delivered" "$(r ws-hold joined)"
        row "  peer-joined/s" "$(r ws-hold joined_per_s)"
        row "  CPU s, server / load generator" "$(r ws-hold cpu_s) / $(r ws-hold gen_cpu_s)"
        row "  server VmRSS before -> bare held -> all held (peak), KiB" \
            "$(r ws-hold rss0_kib) -> $(r ws-hold rss_idle_kib) -> $(r ws-hold rss1_kib)" \
            "($(r ws-hold peak_rss_kib))"
        row "  bytes/online client (its connection included)" "$(r ws-hold bytes_per_client)"
        for step in half_ ''; do
            label="WebSocket offer relay, messages/s"
            label+=" ($(r ws-relay "${step}offered_per_s")/s offered)"
            row "$label" "$(r ws-relay "${step}msgs_per_s")"
            row "  latency p50 / p99, ms" \
                "$(r ws-relay "${step}p50_ms") / $(r ws-relay "${step}p99_ms")"
            row "  server CPU us/message (% of a core)" \
                "$(r ws-relay "${step}cpu_us_per_msg") ($(r ws-relay "${step}cpu_pct"))"
            row "  load generator CPU, % of a core" "$(r ws-relay "${step}gen_cpu_pct")"
        done
        if [[ ${result[ws-relay,outcome]:-none} != "done" ]]; then
            row "  (the relay did not complete: ${result[ws-relay,outcome]:-none})" ""
        fi
    fi
done
problems=
for key in "${!result[@]}"; do
    if [[ $key == *,problems && ${result[$key]} != none ]]; then
        problems+="  ${key%,problems}: ${result[$key]}"$'\n'
    fi
done
if [[ -n $problems ]]; then
    echo "what went wrong on the client side (kind:count):"
    printf '%s' "$problems"
fi
