#!/usr/bin/env bash
# STUN Binding benchmark: strowger vs coturn's turnserver, same load generator, same loopback.
#
# Usage: bench/stun/run.sh [BUILD_DIR] [SECONDS] [THREADS]    (defaults: build/bench 5 2)
#
# Each server is started on a free 127.0.0.1 UDP port with THREADS worker threads, warmed up,
# then loaded for SECONDS by stun_load; its CPU time (utime+stime from /proc/PID/stat) is read
# before and after the measured run. The load generator runs on the same machine: on a small
# box (the reference one has 2 cores) it competes with the server for CPU, so req/s partly
# measures the generator and the scheduler. Server CPU microseconds per answered request is far
# less sensitive to that, which is why it is the fairer figure for comparing the servers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-build/bench}
seconds=${2:-5}
threads=${3:-2}
warmup_seconds=1
sockets=8  # several client 4-tuples so SO_REUSEPORT spreads the load over server shards
window=64  # requests in flight per socket

if [[ $build != /* && ! -d $build && -d $root/$build ]]; then build=$root/$build; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1 || seconds > 60)); then
    echo "SECONDS must be an integer in 1..60" >&2
    exit 2
fi
if ! [[ $threads =~ ^[0-9]+$ ]] || ((threads < 1 || threads > 64)); then
    echo "THREADS must be an integer in 1..64" >&2
    exit 2
fi

strowger=$build/src/app/strowger
load=$build/bench/stun/stun_load
if [[ ! -x $strowger || ! -x $load ]]; then
    echo "missing $strowger or $load; build them first:" >&2
    echo "  cmake -S $root -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release" \
        "-DSTROWGER_TESTS=OFF && ninja -C $build" >&2
    exit 1
fi
for tool in turnserver turnutils_stunclient; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found; install coturn" >&2
        exit 1
    fi
done

clk_tck=$(getconf CLK_TCK)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stun-bench.XXXXXX")
server_pid=

running() { # true while the process exists and is not a zombie awaiting our wait
    local stat
    [[ -r /proc/$1/stat ]] && read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

stop_status=
stop_server() { # SIGTERM the server we started, wait up to 10 s, then SIGKILL; sets stop_status
    local pid=$1 i
    stop_status=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        echo "pid $pid ignored SIGTERM for 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || stop_status=$?
}

cleanup() {
    if [[ -n $server_pid ]]; then stop_server "$server_pid"; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pick_port() { # a currently free loopback UDP port (the kernel picks it; racy but fine here)
    if command -v python3 >/dev/null; then
        python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
        return
    fi
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 40000))
        if [[ -z $(ss -Hlun "sport = :$port") ]]; then
            echo "$port"
            return
        fi
    done
    echo "no free UDP port found" >&2
    return 1
}

cpu_ticks() { # utime + stime (fields 14 and 15), summed over all threads of the process
    local stat fields
    read -r stat <"/proc/$1/stat"
    read -ra fields <<<"${stat##*) }" # fields[0] is field 3 (state); the comm may hold spaces
    echo $((fields[11] + fields[12]))
}

wait_ready() { # pid port log: poll with a real STUN client until the server answers
    local i
    for ((i = 0; i < 50; i++)); do
        if ! running "$1"; then
            echo "server exited during startup; its log:" >&2
            cat "$3" >&2
            return 1
        fi
        if timeout 2 turnutils_stunclient -p "$2" 127.0.0.1 >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "server on port $2 did not answer a Binding request within ~10 s" >&2
    return 1
}

declare -A rate cpu_us lost
measure() { # name port log: warm up, then a measured run; fills rate, cpu_us and lost[name]
    local name=$1 port=$2 out responses c0 c1
    wait_ready "$server_pid" "$port" "$3"
    "$load" --port "$port" --seconds "$warmup_seconds" --sockets "$sockets" \
        --window "$window" >/dev/null || { echo "$name: warm-up got no responses" >&2; return 1; }
    c0=$(cpu_ticks "$server_pid")
    out=$("$load" --port "$port" --seconds "$seconds" --sockets "$sockets" --window "$window") ||
        { echo "$name: measured run got no responses: $out" >&2; return 1; }
    c1=$(cpu_ticks "$server_pid")
    responses=$(sed -n 's/.*responses=\([0-9]*\).*/\1/p' <<<"$out")
    rate[$name]=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$out")
    lost[$name]=$(sed -n 's/.*lost=\([0-9]*\).*/\1/p' <<<"$out")
    cpu_us[$name]=$(awk -v t=$((c1 - c0)) -v hz="$clk_tck" -v n="$responses" \
        'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    echo "$name: $out server_cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$clk_tck" \
        'BEGIN { printf "%.2f", t / hz }')"
    stop_server "$server_pid"
    server_pid=
    echo "$name: exit status after SIGTERM: $stop_status"
}

port=$(pick_port)
mkdir -p "$tmp/strowger"
"$strowger" serve --set "stun.listen=[\"udp:127.0.0.1:$port\"]" --set "general.threads=$threads" \
    --set "general.data_dir=$tmp/strowger" --set log.level=warn >"$tmp/strowger.log" 2>&1 &
server_pid=$!
measure strowger "$port" "$tmp/strowger.log"

# coturn as a plain STUN server: no config file (-n), no CLI, UDP only, no daemonizing (it only
# forks with -o), and every file it writes (log, pid, SQLite user db) inside the temp dir.
# --relay-threads is its number of UDP worker threads, comparable to strowger's shards.
port=$(pick_port)
mkdir -p "$tmp/coturn"
turnserver -n --no-cli --stun-only --listening-ip=127.0.0.1 --listening-port="$port" \
    --no-tcp --no-tls --no-dtls --no-rfc5780 --relay-threads="$threads" \
    --log-file="$tmp/coturn/turn.log" --simple-log --no-stdout-log \
    --pidfile="$tmp/coturn/turnserver.pid" --userdb="$tmp/coturn/turndb" \
    >"$tmp/coturn.log" 2>&1 &
server_pid=$!
measure coturn "$port" "$tmp/coturn.log"

echo
# lost = requests never answered (no retransmission); non-zero means the server dropped some.
printf '%-9s %-8s %-10s %-11s %s\n' server threads req/s cpu_us/req lost
for name in strowger coturn; do
    printf '%-9s %-8s %-10.0f %-11s %s\n' "$name" "$threads" "${rate[$name]}" "${cpu_us[$name]}" \
        "${lost[$name]}"
done
awk -v rs="${rate[strowger]}" -v rc="${rate[coturn]}" -v cs="${cpu_us[strowger]}" \
    -v cc="${cpu_us[coturn]}" 'BEGIN {
        printf "ratio strowger/coturn: throughput %.2fx, cpu per request %.2fx (lower is better)\n",
            rs / rc, cs / cc
    }'
