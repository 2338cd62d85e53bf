#!/usr/bin/env bash
# TURN relay benchmark: strowger vs coturn's turnserver, each relaying the same
# turnutils_uclient load to the same turnutils_peer echo on 127.0.0.1 in the same run, with
# ratios strowger/coturn.
#
# Usage: bench/turn/run.sh [STROWGER_BINARY] [--only strowger|coturn] [--threads N]
#                          [--rounds N] [--allocations N]
#   STROWGER_BINARY defaults to $STROWGER_BIN, else build/bench/src/app/strowger (a Release
#   build; relative paths are tried from the current directory, then from the repository
#   root). By default both servers run; --only runs one. --threads (default 1) is the worker
#   count of each server: strowger general.threads, coturn --relay-threads. --rounds (default
#   3) is how many times each fixed-rate CPU load is run per server (the median is kept);
#   --allocations (default 1000) is how many allocations are held for the memory figures.
#
# Figures, for each server (bench/turn/README.md tells how each is taken):
#   relayed packets/s     highest rate over any 3 s while 80 clients send as fast as
#                         turnutils_uclient can (channels over UDP), and what was lost
#   CPU us/relayed packet server utime+stime over the relay phase / packets relayed, at a fixed
#                         offered 20,000 relayed packets/s (20 clients x 500 messages/s, echoed):
#                         ChannelData over UDP, Send/Data indications over UDP, ChannelData
#                         over TCP; median of --rounds rounds; also at the saturating load
#   bytes/allocation      growth of the server's anonymous RSS for N allocations held open,
#                         and for then giving each a permission and a bound channel
#   idle CPU              % of one core over 5 s with nothing to do
# A relayed packet is one datagram the server forwarded: client to peer or peer to client.
# Each message the client gets echoed back was relayed twice, so relayed = 2 x received.
#
# turnutils_uclient, turnutils_peer and the server share the machine. On a small box (the
# reference one has 2 cores, shared) the load generator and the echo compete with the server
# for CPU, so the saturated rate measures all three and the scheduler; CPU per relayed packet
# at a rate no server drops at is the fairer comparison. The servers are loaded in turn at
# every step, so that a burst of other work on the machine is less likely to land on one
# server's figures only.
#
# Every load is bounded: each client run has a message count and a hard timeout; the memory
# holder has a deadline. Servers, the echo peer and the clients run on loopback ports picked
# by the kernel (relays in the fixed ranges below) and are stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib.sh"
here=$root/bench/turn

strowger_bin=
only=
threads=1
rounds=3
allocations=1000
while (($#)); do
    case $1 in
    --only | --threads | --rounds | --allocations)
        need_value "$@"
        declare "${1#--}=$2"
        shift 2
        ;;
    --only=* | --threads=* | --rounds=* | --allocations=*)
        opt=${1%%=*}
        declare "${opt#--}=${1#*=}"
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
'') servers=(strowger coturn) ;;
strowger | coturn) servers=("$only") ;;
*)
    echo "--only takes strowger or coturn, not '$only'" >&2
    exit 2
    ;;
esac
wants() { [[ " ${servers[*]} " == *" $1 "* ]]; }
in_range --threads "$threads" 1 16
in_range --rounds "$rounds" 1 9
in_range --allocations "$allocations" 10 5000

strowger_bin=${strowger_bin:-${STROWGER_BIN:-build/bench/src/app/strowger}}
if [[ $strowger_bin != /* && ! -e $strowger_bin && -e $root/$strowger_bin ]]; then
    strowger_bin=$root/$strowger_bin
fi
if wants strowger && [[ ! -x $strowger_bin ]]; then
    echo "missing $strowger_bin; build it first, or pass the binary, or use --only coturn:" >&2
    echo "  cmake -S $root -B $root/build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release" \
        "-DSTROWGER_TESTS=OFF && ninja -C $root/build/bench strowger" >&2
    exit 1
fi
for tool in turnserver turnutils_uclient turnutils_peer turnutils_stunclient python3 timeout; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found (Debian packages: coturn, python3, coreutils)" >&2
        exit 1
    fi
done

# --- what is measured, and the bounds on it ---------------------------------------------------
user=alice
password=secret
realm=strowger           # strowger's default realm; coturn is given the same
payload=160              # bytes per message: one 20 ms G.711 frame
# Fixed-rate load for CPU per packet: 20 clients, each one allocation and a channel to the echo
# peer, each sending a message every 2 ms (500/s) for 3000 messages (6 s), starting within
# 1..6 s of each other (turnutils_uclient's own stagger): at most 10,000 messages/s, 20,000
# relayed packets/s, 120,000 relayed packets per run.
cpu_clients=20
cpu_interval_ms=2
cpu_messages=3000
# Saturating load for the rate: 80 clients, each asking for a message every 1 ms for 6 s, at
# most 160,000 relayed packets/s, more than the client, the echo and the server carry on 2 cores.
sat_clients=80
sat_interval_ms=1
sat_messages=6000
rate_window_s=3
client_timeout_s=90      # hard limit on one turnutils_uclient run
idle_seconds=5
settle_seconds=1
strowger_relay_ports=40000-49999
coturn_min_port=50000
coturn_max_port=59999

declare -A load_flags=([udp]="" [udp-send]="-s" [tcp]="-t")
declare -A load_label=(
    [udp]="ChannelData over UDP"
    [udp-send]="Send/Data indications over UDP"
    [tcp]="ChannelData over TCP"
)
loads=(udp udp-send tcp)

# Each allocation is a socket in the holder and in the server.
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
if ((nofile < allocations + 512)); then
    echo "RLIMIT_NOFILE hard limit $nofile is too low for $allocations allocations" >&2
    exit 1
fi

clk_tck=$(getconf CLK_TCK)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/turn-bench.XXXXXX")
declare -A server_pid server_port
peer_pid=
background_pids=() # helpers still running; stopped on exit



stop_server() {
    local pid=${server_pid[$1]:-}
    [[ -n $pid ]] || return 0
    stop_pid "$pid"
    server_pid[$1]=
}

cleanup() {
    local pid name
    for pid in "${background_pids[@]}"; do
        if running "$pid"; then stop_pid "$pid"; fi
    done
    for name in "${!server_pid[@]}"; do stop_server "$name"; done
    if [[ -n $peer_pid ]]; then stop_pid "$peer_pid"; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_background() { # drop a stopped helper from the cleanup list
    local pid kept=()
    for pid in "${background_pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
    background_pids=("${kept[@]}")
}


cpu_ticks() { # utime + stime (fields 14 and 15) of all the server's threads
    local stat fields
    read -r stat <"/proc/${server_pid[$1]}/stat"
    read -ra fields <<<"${stat##*) }" # fields[0] is field 3 (state); comm may hold spaces
    echo $((fields[11] + fields[12]))
}

# Anonymous resident memory, KiB. Not Pss: the memory holder (Python) maps the same shared
# libraries as the servers (libc, libcrypto), which moves part of those pages in and out of a
# server's Pss while it runs. Both servers are single processes; their heaps are anonymous.
anon_kib() {
    awk '/^RssAnon:/ { print $2; exit }' "/proc/${server_pid[$1]}/status"
}

per_unit() { # delta unit count -> microseconds (ticks) or bytes (kib) per item
    awk -v d="$1" -v unit="$2" -v n="$3" -v hz="$clk_tck" 'BEGIN {
        if (n <= 0) { print "-"; exit }
        if (unit == "ticks") printf "%.2f", d / hz * 1e6 / n
        else printf "%.0f", d * 1024 / n
    }'
}

# --- servers ----------------------------------------------------------------------------------
start_strowger() {
    local port sip_port dir=$tmp/strowger
    port=$(pick_port)
    sip_port=$(pick_port)
    mkdir -p "$dir"
    "$strowger_bin" user add "$user" "$password" --set "general.data_dir=$dir" \
        >"$tmp/strowger-user.log" 2>&1 || {
        echo "strowger user add failed:" >&2
        cat "$tmp/strowger-user.log" >&2
        exit 1
    }
    # log.level=info: nothing is logged per packet or per allocation at info, and at exit
    # strowger logs each shard's TURN counters, the cross-check for the clients' counts.
    "$strowger_bin" serve --set "general.data_dir=$dir" --set "general.threads=$threads" \
        --set "stun.listen=[\"udp:127.0.0.1:$port\",\"tcp:127.0.0.1:$port\"]" \
        --set "sip.listen=[\"udp:127.0.0.1:$sip_port\"]" \
        --set turn.relay_address=127.0.0.1 --set 'turn.allowed_peers=["127.0.0.0/8"]' \
        --set "turn.relay_ports=$strowger_relay_ports" --set turn.user_quota=0 \
        --set log.level=info >"$tmp/strowger.log" 2>&1 &
    server_pid[strowger]=$!
    server_port[strowger]=$port
}

start_coturn() {
    local port dir=$tmp/coturn
    port=$(pick_port)
    mkdir -p "$dir"
    # No config file (-n), no CLI, no TLS/DTLS listeners, no daemonizing (it forks only with
    # -o); log, pid file and SQLite user db in the temp dir. --relay-threads is its number of
    # relay threads, comparable to strowger's shards (coturn also runs a listener, two auth
    # threads and an admin thread; all are counted).
    turnserver -n --no-cli --no-tls --no-dtls --listening-ip=127.0.0.1 --listening-port="$port" \
        --relay-ip=127.0.0.1 --min-port="$coturn_min_port" --max-port="$coturn_max_port" \
        --relay-threads="$threads" --lt-cred-mech --user="$user:$password" --realm="$realm" \
        --allow-loopback-peers --log-file="$dir/turn.log" --simple-log --no-stdout-log \
        --pidfile="$dir/turnserver.pid" --userdb="$dir/turndb" >"$tmp/coturn.log" 2>&1 &
    server_pid[coturn]=$!
    server_port[coturn]=$port
}

wait_ready() { # SERVER: poll with a real STUN client until the server answers (bounded)
    local name=$1 i log=$tmp/$1.log
    for ((i = 0; i < 50; i++)); do
        if ! running "${server_pid[$name]}"; then
            echo "$name exited during startup; its log:" >&2
            tail -30 "$log" >&2
            exit 1
        fi
        if timeout 2 turnutils_stunclient -p "${server_port[$name]}" 127.0.0.1 \
            >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    echo "$name did not answer a Binding request on 127.0.0.1:${server_port[$name]} within" \
        "~10 s; its log:" >&2
    tail -30 "$log" >&2
    exit 1
}

start_peer() {
    local port i
    port=$(pick_port)
    turnutils_peer -L 127.0.0.1 -p "$port" >"$tmp/peer.log" 2>&1 &
    peer_pid=$!
    peer_port=$port
    for ((i = 0; i < 50; i++)); do
        [[ -n $(ss -Hlun "sport = :$port" 2>/dev/null) ]] && return 0
        running "$peer_pid" || break
        sleep 0.1
    done
    if ! running "$peer_pid"; then
        echo "turnutils_peer did not start:" >&2
        cat "$tmp/peer.log" >&2
        exit 1
    fi
}

# --- measurements -----------------------------------------------------------------------------
declare -A result       # result[FIGURE,SERVER]
declare -A cpu_samples  # cpu_samples[LOAD,SERVER]: microseconds per relayed packet per round
declare -A client_relayed # client_relayed[SERVER]: 2 x echoes, summed over every run
declare -A client_sent  # client_sent[SERVER]: messages the clients sent, summed
declare -A mismatches   # mismatches[SERVER]: 437 answers turnutils_uclient logged, summed
run_id=0

# uclient_load SERVER CLIENTS INTERVAL_MS MESSAGES FLAGS: one bounded turnutils_uclient run;
# sets run_sent, run_received, run_lost, run_relayed, run_ticks, run_relay_s, run_peak, run_ok.
uclient_load() {
    local name=$1 clients=$2 interval=$3 messages=$4 flags=$5 out id=$((++run_id)) kv n437
    # -c: no RTCP allocation beside each client's; -e/-r: the echo peer; -l: payload bytes.
    # shellcheck disable=SC2086 # flags is a list of options
    out=$(python3 "$here/uclient_run.py" --server-pid "${server_pid[$name]}" \
        --timeout "$client_timeout_s" --window "$rate_window_s" --log "$tmp/uclient-$id.log" -- \
        -c $flags -m "$clients" -z "$interval" -n "$messages" -l "$payload" \
        -e 127.0.0.1 -r "$peer_port" -u "$user" -w "$password" -p "${server_port[$name]}" \
        127.0.0.1) || true
    run_sent=0 run_received=0 run_lost=0 run_relayed=0 run_ticks=0 run_relay_s=0 run_peak=0
    run_ok=0
    for kv in $out; do
        case $kv in
        sent=*) run_sent=${kv#*=} ;;
        received=*) run_received=${kv#*=} ;;
        lost=*) run_lost=${kv#*=} ;;
        relayed=*) run_relayed=${kv#*=} ;;
        cpu_ticks=*) run_ticks=${kv#*=} ;;
        relay_s=*) run_relay_s=${kv#*=} ;;
        peak_pps=*) run_peak=${kv#*=} ;;
        rc=0) run_ok=1 ;;
        esac
    done
    if ((!run_ok)) || ((run_sent != clients * messages)); then
        run_ok=0
        echo "$name: turnutils_uclient run $id did not complete ($out); its last lines:" >&2
        tail -5 "$tmp/uclient-$id.log" | sed 's/^/  /' >&2
    fi
    client_relayed[$name]=$((${client_relayed[$name]:-0} + run_relayed))
    client_sent[$name]=$((${client_sent[$name]:-0} + run_sent))
    n437=$(grep -c 'error 437' "$tmp/uclient-$id.log" 2>/dev/null) || true
    mismatches[$name]=$((${mismatches[$name]:-0} + ${n437:-0}))
}

measure_idle() { # both servers at once: nothing is sent to either
    local name
    declare -A c0
    for name in "${servers[@]}"; do c0[$name]=$(cpu_ticks "$name"); done
    sleep "$idle_seconds"
    for name in "${servers[@]}"; do
        result[idle,$name]=$(awk -v t=$(($(cpu_ticks "$name") - c0[$name])) -v hz="$clk_tck" \
            -v s="$idle_seconds" 'BEGIN { printf "%.1f", t / hz / s * 100 }')
        echo "$name: idle CPU ${result[idle,$name]} % of a core over ${idle_seconds} s"
    done
}

wait_step() { # FILE STEP PID: wait (bounded) until the holder reports STEP or exits
    local i
    for ((i = 0; i < 600; i++)); do
        if grep -q "^$2 " "$1" 2>/dev/null || ! running "$3"; then break; fi
        sleep 0.1
    done
    awk -v s="$2" '$1 == s { print $2 }' "$1" 2>/dev/null || true
}

measure_memory() { # allocations held open, then with a permission and a channel each
    local name=$1 ready=$tmp/hold-$1.ready pid m0 m1 m2 allocated bound
    sleep "$settle_seconds"
    m0=$(anon_kib "$name")
    python3 "$here/hold_allocations.py" "${server_port[$name]}" "$allocations" "$user" \
        "$password" "$peer_port" "$ready" 120 2>"$tmp/hold-$name.err" &
    pid=$!
    background_pids+=("$pid")
    allocated=$(wait_step "$ready" allocated "$pid")
    sleep "$settle_seconds"
    m1=$(anon_kib "$name")
    kill -USR1 "$pid" 2>/dev/null || true
    bound=$(wait_step "$ready" bound "$pid")
    sleep "$settle_seconds"
    m2=$(anon_kib "$name")
    stop_pid "$pid"
    forget_background "$pid"
    allocated=${allocated:-0} bound=${bound:-0}
    echo "$name: $allocated allocations: anonymous RSS $m0 -> $m1 KiB; with a permission and" \
        "a channel each ($bound bound): $m2 KiB ($(grep -h released "$tmp/hold-$name.err" ||
            echo 'release not reported'))"
    if ((allocated < allocations)); then
        echo "$name: only $allocated of $allocations allocations:" \
            "$(sort "$tmp/hold-$name.err" | uniq -c | head -5)" >&2
    fi
    if ((allocated > 0)); then result[alloc_bytes,$name]=$(per_unit $((m1 - m0)) kib "$allocated"); fi
    if ((bound > 0)); then result[bind_bytes,$name]=$(per_unit $((m2 - m1)) kib "$bound"); fi
}

measure_cpu() { # SERVER LOAD: one fixed-rate round
    local name=$1 load=$2 us
    sleep "$settle_seconds"
    uclient_load "$name" "$cpu_clients" "$cpu_interval_ms" "$cpu_messages" "${load_flags[$load]}"
    us=$(per_unit "$run_ticks" ticks "$run_relayed")
    printf '%-9s %-31s %7s sent, %7s echoed, %5s lost, %6s s, CPU %4s ticks: %6s us/packet%s\n' \
        "$name" "${load_label[$load]}" "$run_sent" "$run_received" "$run_lost" "$run_relay_s" \
        "$run_ticks" "$us" "$( ((run_ok && run_lost == 0)) || echo ' (not clean: no figure)')"
    if ((run_ok && run_lost == 0)); then cpu_samples[$load,$name]+=" $us"; fi
}

measure_saturation() {
    local name=$1
    sleep "$settle_seconds"
    uclient_load "$name" "$sat_clients" "$sat_interval_ms" "$sat_messages" ""
    result[sat_us,$name]=$(per_unit "$run_ticks" ticks "$run_relayed")
    result[sat_loss,$name]=$(awk -v l="$run_lost" -v s="$run_sent" \
        'BEGIN { if (s > 0) printf "%.2f", l * 100 / s; else print "-" }')
    echo "$name: $run_sent sent, $run_received echoed, $run_lost lost (${result[sat_loss,$name]} %)" \
        "in ${run_relay_s} s; best ${rate_window_s} s: $run_peak relayed packets/s;" \
        "CPU $run_ticks ticks, ${result[sat_us,$name]} us/relayed packet"
    if ((run_received > 0)); then result[sat_pps,$name]=$run_peak; fi
}

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the run ----------------------------------------------------------------------------------
echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $threads worker" \
    "thread(s) per server; coturn $(turnserver --version 2>/dev/null | head -1)"
for name in "${servers[@]}"; do "start_$name"; done
for name in "${servers[@]}"; do
    wait_ready "$name"
    echo "$name: pid ${server_pid[$name]}, STUN/TURN on udp+tcp 127.0.0.1:${server_port[$name]}"
done
start_peer
echo "echo peer: turnutils_peer pid $peer_pid on udp 127.0.0.1:$peer_port"

measure_idle

echo "== memory: $allocations allocations held open (UDP), then a permission and a channel each"
for name in "${servers[@]}"; do measure_memory "$name"; done

echo "== CPU per relayed packet: $cpu_clients clients x $((1000 / cpu_interval_ms)) messages/s" \
    "x $cpu_messages messages of $payload bytes, echoed; $rounds round(s)"
for ((round = 1; round <= rounds; round++)); do
    for load in "${loads[@]}"; do
        for name in "${servers[@]}"; do measure_cpu "$name" "$load"; done
    done
done
for load in "${loads[@]}"; do
    for name in "${servers[@]}"; do
        samples=${cpu_samples[$load,$name]:-}
        [[ -n $samples ]] || continue
        result[cpu_$load,$name]=$(median "$samples")
        echo "$name ${load_label[$load]}: us/relayed packet in each round:$samples;" \
            "median ${result[cpu_$load,$name]}"
    done
done

echo "== saturation: $sat_clients clients asking for $((1000 / sat_interval_ms)) messages/s each" \
    "($sat_messages messages of $payload bytes), ChannelData over UDP"
for name in "${servers[@]}"; do measure_saturation "$name"; done

for name in "${servers[@]}"; do stop_server "$name"; done
if wants strowger; then
    read -r to_peer to_client < <(awk '/shard [0-9]+ turn:/ {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^packets_to_peer=/) { sub(/.*=/, "", $i); p += $i }
                if ($i ~ /^packets_to_client=/) { sub(/.*=/, "", $i); c += $i }
            }
        } END { print p + 0, c + 0 }' "$tmp/strowger.log")
    echo "strowger's own counters: $to_peer packets relayed to peers, $to_client to clients" \
        "(sum $((to_peer + to_client))); its clients sent ${client_sent[strowger]:-0} messages" \
        "and got $(( ${client_relayed[strowger]:-0} / 2 )) echoes (${client_relayed[strowger]:-0}" \
        "relayed packets counted by the clients)"
fi

for name in "${servers[@]}"; do
    if ((${mismatches[$name]:-0})); then
        echo "$name: turnutils_uclient logged ${mismatches[$name]} Allocate answers 437 (Allocation" \
            "Mismatch) over the run; it retries those allocations"
    fi
done

# --- the table --------------------------------------------------------------------------------
echo
echo "strowger/coturn: above 1 is better for the rate, below 1 is better for CPU and memory."
printf '%-46s %10s %10s %16s\n' figure strowger coturn strowger/coturn
row() { # FIGURE LABEL
    local s=${result[$1,strowger]:--} c=${result[$1,coturn]:--} ratio=-
    if [[ $s =~ ^[0-9.]+$ && $c =~ ^[0-9.]+$ ]]; then
        ratio=$(awk -v s="$s" -v c="$c" 'BEGIN { if (c > 0) printf "%.2f", s / c; else print "-" }')
    fi
    printf '%-46s %10s %10s %16s\n' "$2" "$s" "$c" "$ratio"
}
row sat_pps "relayed packets/s, best ${rate_window_s} s, saturated"
row sat_loss "  lost at saturation, % of sent"
row sat_us "  CPU us/relayed packet at saturation"
offered=$((2 * cpu_clients * 1000 / cpu_interval_ms))
row cpu_udp "CPU us/relayed packet, UDP ChannelData"
row cpu_udp-send "CPU us/relayed packet, UDP Send/Data ind."
row cpu_tcp "CPU us/relayed packet, TCP ChannelData"
echo "  (the three above at up to $offered relayed packets/s, median of $rounds)"
row alloc_bytes "bytes/allocation (anonymous RSS)"
row bind_bytes "bytes/(permission + channel) more"
row idle "idle CPU, % of a core"
