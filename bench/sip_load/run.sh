#!/usr/bin/env bash
# SIP load benchmark: strowger vs Kamailio as registrar + transaction-stateful proxy, driven by
# the same SIPp scenarios on 127.0.0.1 in the same run, with ratios strowger/kamailio.
#
# Usage: bench/sip_load/run.sh [STROWGER_BINARY] [--only strowger|kamailio]
#   STROWGER_BINARY defaults to build/bench/src/app/strowger (a Release build; relative paths
#   are tried from the current directory, then from the repository root). By default both
#   servers run; --only runs one of them. A strowger that does not answer SIP OPTIONS is
#   skipped with a message, and its column shows "-".
#
# Figures, for each server (bench/sip_load/README.md tells how each is taken):
#   calls/s UDP, TCP     highest call rate with no failed call, stepping the rate up
#   CPU us/call          server CPU per call at a fixed 300 calls/s for 5 s, UDP and TCP
#                        (median of 5 rounds, all taken before any rate step overloads a server)
#   REGISTER/s           highest REGISTER rate with no failure, stepping the rate up
#   CPU us/REGISTER      server CPU per REGISTER while 10,000 distinct users register
#   bytes/binding        memory growth for those 10,000 bindings, per binding
#   bytes/idle TCP conn  memory growth for 10,000 idle TCP connections, per connection
# Server CPU is utime+stime from /proc/PID/stat summed over the server's processes (Kamailio
# forks workers; strowger is one process). Memory is the sum of Pss over those processes, from
# /proc/PID/smaps_rollup: Kamailio keeps bindings and connections in one shared segment that
# every worker maps, so summing VmRSS would count it once per process; Pss splits shared pages
# between the processes that map them, so the sum counts each page once. For a single process
# Pss and RSS grow alike.
#
# Both servers get 2 workers (strowger general.threads=2; Kamailio children=2, tcp_children=2).
# SIPp runs on the same machine: on a small box (the reference one has 2 cores, shared) it
# competes with the server for CPU, so the rates partly measure SIPp and the scheduler. CPU per
# call and per REGISTER are the fairer figures for comparing the servers. The servers are
# loaded in turn, step by step (strowger, then Kamailio, at each rate), so that a burst of other
# work on the machine is less likely to land on one server's measurements only.
#
# Every load is bounded: each SIPp run has a call count, a global timeout and a hard `timeout`
# around it; the rate steps stop at the first failure or at the top rate. Servers and load
# generators are started on free loopback ports picked by the kernel and stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib.sh"
here=$root/bench/sip_load

strowger_bin=
only=
while (($#)); do
    case $1 in
    --only)
        only=${2:-}
        shift 2 || { echo "--only needs strowger or kamailio" >&2; exit 2; }
        ;;
    --only=*)
        only=${1#*=}
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
'') servers=(strowger kamailio) ;;
strowger | kamailio) servers=("$only") ;;
*)
    echo "--only takes strowger or kamailio, not '$only'" >&2
    exit 2
    ;;
esac
wants() { [[ " ${servers[*]} " == *" $1 "* ]]; }

strowger_bin=${strowger_bin:-build/bench/src/app/strowger}
if [[ $strowger_bin != /* && ! -e $strowger_bin && -e $root/$strowger_bin ]]; then
    strowger_bin=$root/$strowger_bin
fi
if wants strowger && [[ ! -x $strowger_bin ]]; then
    echo "missing $strowger_bin; build it first, or pass the binary, or use --only kamailio:" >&2
    echo "  cmake -S $root -B $root/build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release" \
        "-DSTROWGER_TESTS=OFF && ninja -C $root/build/bench strowger" >&2
    exit 1
fi
needed=(sipp python3 ss timeout)
if wants kamailio; then needed+=(kamailio); fi
for tool in "${needed[@]}"; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found (Debian packages: sipp, kamailio, python3, iproute2)" >&2
        exit 1
    fi
done

# --- what is measured, and the bounds on it ---------------------------------------------------
workers=2
call_hold_ms=1000      # the caller's pause between ACK and BYE
step_seconds=2         # each rate step places this many seconds' worth of calls or REGISTERs
max_step_count=40000   # and never more than this many
call_rates=(200 400 800 1600 3200 6400 12800)
register_rates=(500 1000 2000 4000 8000 16000 32000)
cpu_call_rate=300      # the fixed rate for CPU per call ...
cpu_call_seconds=5     # ... for this long
cpu_rounds=5           # ... this many times per server
bindings=10000         # distinct users registered for memory and CPU per REGISTER
bindings_rate=2000
idle_connections=10000 # idle TCP connections for memory per connection
settle_seconds=1       # pause after a load before reading CPU or memory, and between steps
# Client sockets: UDP callers and registrations use a socket per call, reused once there are 8:
# several client addresses, as many users would have, so that neither server's way of spreading
# work over its workers (one socket shared by the workers, or shards by source address) is
# starved. TCP callers share one connection: SIPp 3.6 breaks its TCP connections when it shares
# them between calls (-t tn with -max_socket), and a connection per call would measure connection
# setup. So over TCP each server sees two connections (caller and callee), which bounds how many
# workers it can use for the calls: both servers alike.
udp_client=(-t un -max_socket 8)
tcp_client=(-t t1)

# The idle-connection test needs one descriptor per connection in the client and in the server.
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
if ((nofile < idle_connections + 2048)); then
    idle_connections=$((nofile > 3048 ? nofile - 2048 : 1000))
    echo "note: RLIMIT_NOFILE hard limit is $nofile; idle TCP test uses $idle_connections" \
        "connections (raise the limit to get 10,000)" >&2
fi

clk_tck=$(getconf CLK_TCK)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sip-load-bench.XXXXXX")
declare -A server_pid server_port
background_pids=() # load generators and clients still running; stopped on exit




stop_server() { # the server's processes, main and workers
    local name=$1 pid=${server_pid[$1]:-}
    [[ -n $pid ]] || return 0
    stop_tree "$pid"
    server_pid[$name]=
}

cleanup() {
    local pid name
    for pid in "${background_pids[@]}"; do
        if running "$pid"; then stop_pid "$pid"; fi
    done
    for name in "${!server_pid[@]}"; do stop_server "$name"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_background() { # drop a stopped background process from the cleanup list
    local pid kept=()
    for pid in "${background_pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
    background_pids=("${kept[@]}")
}


cpu_ticks() { tree_cpu_ticks "${server_pid[$1]}"; } # utime+stime over the server, ticks

pss_kib() { tree_pss_kib "${server_pid[$1]}"; } # Pss over the server's processes, KiB

per_unit() { # ticks_or_kib_delta unit count -> microseconds (ticks) or bytes (kib) per item
    awk -v d="$1" -v unit="$2" -v n="$3" -v hz="$clk_tck" 'BEGIN {
        if (n <= 0) { print "-"; exit }
        if (unit == "ticks") printf "%.1f", d / hz * 1e6 / n
        else printf "%.0f", d * 1024 / n
    }'
}

# --- servers ----------------------------------------------------------------------------------
start_strowger() {
    local port stun_port
    port=$(pick_port)
    stun_port=$(pick_port)
    mkdir -p "$tmp/strowger"
    "$strowger_bin" serve \
        --set "sip.listen=[\"udp:127.0.0.1:$port\",\"tcp:127.0.0.1:$port\"]" \
        --set "stun.listen=[\"udp:127.0.0.1:$stun_port\"]" \
        --set "general.threads=$workers" --set "general.data_dir=$tmp/strowger" \
        --set sip.min_expires=10 --set sip.max_expires=7200 --set sip.tcp_idle_timeout=600 \
        --set log.level=warn >"$tmp/strowger.log" 2>&1 &
    server_pid[strowger]=$!
    server_port[strowger]=$port
}

start_kamailio() {
    local port
    port=$(pick_port)
    mkdir -p "$tmp/kamailio"
    # -DD: stay in the foreground, so $! is the main process and the workers are its children.
    # -m: shared memory (bindings, transactions, connections); pages count only once touched.
    # -x/-X tlsf: the fast memory manager for shared and private memory. The default, qm, keeps
    # debugging records in Debian's build (DBG_SR_MEMORY) and made each call cost 2.5 times the
    # CPU when this benchmark was written; a deployment tuned for load would not run it.
    kamailio -f "$here/kamailio.cfg" -DD -E -Y "$tmp/kamailio" -P "$tmp/kamailio/kamailio.pid" \
        -m 1024 -M 16 -x tlsf -X tlsf -l "udp:127.0.0.1:$port" -l "tcp:127.0.0.1:$port" \
        -A "WORKERS=$workers" -A "MAX_TCP=$((idle_connections + 1024))" -A "MAX_FILES=$nofile" \
        >"$tmp/kamailio.log" 2>&1 &
    server_pid[kamailio]=$!
    server_port[kamailio]=$port
}

start_servers() { # starts each server and keeps in ${servers[@]} those that answer SIP
    local name answering=() status
    for name in "${servers[@]}"; do
        "start_$name"
        if status=$(python3 "$here/sip_probe.py" "${server_port[$name]}" 10) &&
            running "${server_pid[$name]}"; then
            echo "$name: pid ${server_pid[$name]}, SIP on udp+tcp 127.0.0.1:${server_port[$name]}" \
                "(OPTIONS -> $status)"
            answering+=("$name")
            continue
        fi
        if [[ $name == kamailio ]]; then
            echo "kamailio did not answer OPTIONS on 127.0.0.1:${server_port[$name]}; its log:" >&2
            cat "$tmp/kamailio.log" >&2
            exit 1
        fi
        echo "strowger ($strowger_bin) does not answer SIP on udp:127.0.0.1:${server_port[$name]}" \
            "within 10 s: its SIP service is not there yet; skipping strowger, whose figures" \
            "show as '-' (--only kamailio skips this check). Its log:" >&2
        sed 's/^/  /' "$tmp/strowger.log" | tail -20 >&2
        stop_server "$name"
    done
    servers=("${answering[@]}")
    ((${#servers[@]})) || { echo "no server to measure" >&2; exit 1; }
}

# --- SIPp -------------------------------------------------------------------------------------
run_id=0
# sipp_load SERVER SCENARIO RATE COUNT [SIPp options...]: one bounded SIPp client run; sets
# load_ok (all COUNT succeeded at the asked rate), load_success, load_failed, load_retrans,
# load_wall (seconds) and load_note (why it was not clean).
sipp_load() {
    local name=$1 scenario=$2 rate=$3 count=$4
    shift 4
    local id=$((++run_id)) rc=0 budget stats hold_ms=$call_hold_ms ports
    local csv=$tmp/sipp-$id.csv err=$tmp/sipp-$id.errors
    [[ $scenario != register.xml ]] || hold_ms=0 # a REGISTER is over at its 200
    # Placing the calls takes COUNT/RATE s, each call lasts the hold plus a few round trips, and
    # a call whose answer is lost gives up after 5 s without a message (-recv_timeout).
    budget=$(((count + rate - 1) / rate + hold_ms / 1000 + 15))
    ports=("$(pick_port)" "$(pick_port)" "$(pick_port)")
    timeout -k 2 $((budget + 5)) sipp "127.0.0.1:${server_port[$name]}" -sf "$here/$scenario" \
        -i 127.0.0.1 -p "${ports[0]}" -cp "${ports[1]}" -mp "${ports[2]}" \
        -r "$rate" -m "$count" -d "$call_hold_ms" -nostdin -buff_size 4194304 \
        -recv_timeout 5000 -timeout "${budget}s" -timeout_error \
        -trace_stat -stf "$csv" -fd 60 -trace_err -error_file "$err" -max_log_size 2000000 \
        "$@" >"$tmp/sipp-$id.out" 2>&1 || rc=$?
    # The last line of the statistics file holds the cumulative counters at exit. Its time
    # stamps end in epoch seconds: their difference is the run's length without SIPp's startup.
    stats=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { last = $0 }
        END {
            n = split(last, f, ";")
            m = split(f[col["StartTime"]], start, "\t")
            k = split(f[col["CurrentTime"]], now, "\t")
            printf "%d %d %d %.2f\n", f[col["SuccessfulCall(C)"]], f[col["FailedCall(C)"]],
                f[col["Retransmissions(C)"]], now[k] - start[m]
        }' "$csv" 2>/dev/null) || stats="0 0 0 0"
    read -r load_success load_failed load_retrans load_wall <<<"$stats"
    load_ok=1
    load_note=
    if ((rc != 0 || load_failed > 0 || load_success < count)); then
        load_ok=0
        load_note="SIPp exit $rc"
        if [[ -s $err ]]; then
            load_note+="; first error: $(grep -m1 -v -e '^The following' -e '^\s*$' "$err" |
                cut -c1-160)"
        fi
    elif ! awk -v w="$load_wall" -v n="$count" -v r="$rate" -v h="$hold_ms" \
        'BEGIN { exit !(w <= 1.1 * n / r + h / 1000 + 0.5) }'; then
        # SIPp throttles new calls when too many are open, so a server that falls behind shows
        # as a run that takes longer than placing the calls at the asked rate would.
        load_ok=0
        load_note="rate not sustained: took ${load_wall} s"
    fi
}

declare -A callee_pid
start_callee() { # SERVER TRANSPORT: a SIPp callee registered as callee-TRANSPORT, answering calls
    local name=$1 transport=$2 i
    local log=$tmp/callee-$1-$2-$((++run_id)).log
    local mode=(-t u1)
    [[ $transport == tcp ]] && mode=(-t t1)
    timeout -k 2 600 sipp "127.0.0.1:${server_port[$name]}" -sf "$here/uas.xml" \
        -oocsf "$here/uas_answer.xml" -key callee "callee-$transport" "${mode[@]}" \
        -i 127.0.0.1 -p "$(pick_port)" -cp "$(pick_port)" -mp "$(pick_port)" \
        -m 1 -l 1000000 -d 590000 -nostdin -buff_size 4194304 \
        -trace_logs -log_file "$log" -trace_err -error_file "$tmp/callee-$1-$2.errors" \
        -max_log_size 2000000 >"$tmp/callee-$1-$2.out" 2>&1 &
    callee_pid[$name,$transport]=$!
    background_pids+=("$!")
    for ((i = 0; i < 100; i++)); do
        if grep -q registered "$log" 2>/dev/null; then return 0; fi
        running "${callee_pid[$name,$transport]}" || break
        sleep 0.1
    done
    echo "$name: the $transport callee did not get its REGISTER answered; SIPp said:" >&2
    tail -20 "$tmp/callee-$1-$2.out" >&2
    exit 1
}

stop_callee() { # SERVER TRANSPORT
    stop_pid "${callee_pid[$1,$2]}"
    forget_background "${callee_pid[$1,$2]}"
}

callee_exit_reason() { # SERVER TRANSPORT: why the callee's SIPp stopped, in a few words
    local files=("$tmp/callee-$1-$2.errors" "$tmp/callee-$1-$2.out") why
    # SIPp's error log also notes every out-of-call INVITE; a dropped connection is what matters.
    why=$(grep -hoa -m1 -E 'Broken pipe on TCP connection|remote peer [a-z ]+' "${files[@]}" \
        2>/dev/null | head -1)
    [[ -n $why ]] || why=$(grep -hoa -m1 -E '[0-9]+/[0-9]+/[0-9]+ (TCP|UDP) errors' \
        "$tmp/callee-$1-$2.out" 2>/dev/null | tail -1)
    echo "${why:-no error logged}"
}

# The callee exits when the server drops its connection (TCP) or it gives up under overload;
# a later step would then fail for want of a callee, so it is registered again first.
ensure_callee() { # SERVER TRANSPORT
    running "${callee_pid[$1,$2]}" && return 0
    echo "$1 $2: the callee had exited ($(callee_exit_reason "$1" "$2")); registering a new one"
    forget_background "${callee_pid[$1,$2]}"
    wait "${callee_pid[$1,$2]}" 2>/dev/null || true
    start_callee "$1" "$2"
}

# --- measurements -----------------------------------------------------------------------------
declare -A result # result[FIGURE,SERVER]

measure_bindings() { # memory and CPU for $bindings distinct users registering
    local name=$1 c0 c1 m0 m1
    sleep "$settle_seconds"
    m0=$(pss_kib "$name")
    c0=$(cpu_ticks "$name")
    sipp_load "$name" register.xml "$bindings_rate" "$bindings" "${udp_client[@]}" \
        -key user_prefix mem-
    sleep "$settle_seconds"
    c1=$(cpu_ticks "$name")
    m1=$(pss_kib "$name")
    echo "$name: $load_success REGISTERs of distinct users in ${load_wall} s," \
        "${load_failed} failed; CPU $((c1 - c0)) ticks; Pss ${m0} -> ${m1} KiB"
    if ((load_ok)); then
        result[cpu_register,$name]=$(per_unit $((c1 - c0)) ticks "$load_success")
        result[binding_bytes,$name]=$(per_unit $((m1 - m0)) kib "$load_success")
    else
        echo "$name: registration run not clean ($load_note); no figure" >&2
    fi
}

measure_idle_tcp() {
    local name=$1 port=${server_port[$1]} ready=$tmp/idle-$1.ready m0 m1 pid opened i queue
    sleep "$settle_seconds"
    m0=$(pss_kib "$name")
    python3 "$here/idle_tcp.py" "$port" "$idle_connections" 120 "$ready" \
        2>"$tmp/idle-$1.err" &
    pid=$!
    background_pids+=("$pid")
    for ((i = 0; i < 1200; i++)); do
        if [[ -s $ready ]] || ! running "$pid"; then break; fi
        sleep 0.1
    done
    opened=$(cat "$ready" 2>/dev/null || echo 0)
    # A connection the kernel completed may still wait in the listen queue; memory is read once
    # the server has accepted them all (Recv-Q of a listening socket is its accept queue).
    for ((i = 0; i < 100; i++)); do
        queue=$(ss -Hltn "sport = :$port" | awk '{ q += $2 } END { print q + 0 }')
        ((queue == 0)) && break
        sleep 0.1
    done
    sleep "$settle_seconds"
    m1=$(pss_kib "$name")
    stop_pid "$pid"
    forget_background "$pid"
    echo "$name: $opened idle TCP connections; Pss ${m0} -> ${m1} KiB"
    if ((opened < idle_connections)); then
        echo "$name: only $opened of $idle_connections connections opened:" \
            "$(cat "$tmp/idle-$1.err")" >&2
    fi
    if ((opened > 0)); then result[tcp_conn_bytes,$name]=$(per_unit $((m1 - m0)) kib "$opened"); fi
}

declare -A cpu_samples # cpu_samples[FIGURE,SERVER]: microseconds per call of each round
measure_call_cpu() { # SERVER TRANSPORT
    local name=$1 transport=$2 c0 c1 client
    if [[ $transport == udp ]]; then client=("${udp_client[@]}"); else client=("${tcp_client[@]}"); fi
    sleep "$settle_seconds"
    c0=$(cpu_ticks "$name")
    sipp_load "$name" uac.xml "$cpu_call_rate" $((cpu_call_rate * cpu_call_seconds)) \
        "${client[@]}" -key callee "callee-$transport"
    sleep "$settle_seconds"
    c1=$(cpu_ticks "$name")
    echo "$name $transport: $load_success calls at $cpu_call_rate/s in ${load_wall} s," \
        "$load_failed failed, $load_retrans retransmissions; CPU $((c1 - c0)) ticks"
    if ((load_ok)); then
        cpu_samples[cpu_call_$transport,$name]+=" $(per_unit $((c1 - c0)) ticks "$load_success")"
    else
        echo "$name $transport: CPU run not clean ($load_note); no figure" >&2
    fi
}

# ladder FIGURE SCENARIO RATES... -- SIPp options: steps each server up the rates in turn and
# records its last clean rate in result[FIGURE,SERVER]; after the first failing step, one more
# step halfway between the last clean rate and the failing one narrows the answer.
ladder() {
    local figure=$1 scenario=$2 rate name mid
    shift 2
    local rates=()
    while [[ $1 != -- ]]; do rates+=("$1"); shift; done
    shift
    local -A clean failing
    for rate in "${rates[@]}"; do
        for name in "${servers[@]}"; do
            [[ -z ${failing[$name]:-} ]] || continue
            ladder_step "$figure" "$scenario" "$name" "$rate" "$@"
            if ((load_ok)); then clean[$name]=$rate; else failing[$name]=$rate; fi
        done
    done
    for name in "${servers[@]}"; do
        [[ -n ${failing[$name]:-} && -n ${clean[$name]:-} ]] || continue
        mid=$(((clean[$name] + failing[$name]) / 2))
        sleep $((settle_seconds * 5)) # let the failed step's retransmissions die down
        ladder_step "$figure" "$scenario" "$name" "$mid" "$@"
        if ((load_ok)); then clean[$name]=$mid; fi
    done
    for name in "${servers[@]}"; do
        if [[ -z ${clean[$name]:-} ]]; then
            result[$figure,$name]="<${rates[0]}"
        elif [[ -z ${failing[$name]:-} ]]; then
            result[$figure,$name]=">=${clean[$name]}"
        else
            result[$figure,$name]=${clean[$name]}
        fi
    done
}

ladder_step() { # FIGURE SCENARIO SERVER RATE SIPp-options...
    local figure=$1 scenario=$2 name=$3 rate=$4 count extra=()
    shift 4
    count=$((rate * step_seconds))
    ((count <= max_step_count)) || count=$max_step_count
    # Every REGISTER step registers users of its own, so no step merely refreshes bindings.
    if [[ $scenario == register.xml ]]; then
        extra=(-key user_prefix "r$rate-")
    else
        ensure_callee "$name" "${figure#calls_}"
    fi
    sleep "$settle_seconds"
    sipp_load "$name" "$scenario" "$rate" "$count" "$@" "${extra[@]}"
    if [[ $scenario == uac.xml ]] && ! running "${callee_pid[$name,${figure#calls_}]}"; then
        load_note="the callee exited during the step ($(callee_exit_reason "$name" \
            "${figure#calls_}")); $load_note"
    fi
    printf '%-9s %-15s %6s/s: %6s of %6s ok, %4s failed, %5s retrans, %6s s %s\n' \
        "$name" "$figure" "$rate" "$load_success" "$count" "$load_failed" "$load_retrans" \
        "$load_wall" "$( ((load_ok)) && echo clean || echo "-- $load_note")"
}

# --- the run ----------------------------------------------------------------------------------
echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) at start;" \
    "$workers workers per server; sipp $(sipp -v 2>&1 | grep -o 'v[0-9][0-9.]*' | head -1)" \
    "$(wants kamailio && kamailio -v 2>/dev/null | sed -n 's/^version: \(kamailio [^ ]*\).*/, \1/p')"
start_servers

echo "== memory and CPU: $bindings distinct users register at $bindings_rate/s (UDP)"
for name in "${servers[@]}"; do measure_bindings "$name"; done

echo "== memory: $idle_connections idle TCP connections"
for name in "${servers[@]}"; do measure_idle_tcp "$name"; done

# All CPU-per-call rounds come before any rate step: an overloaded step leaves the server
# retransmitting and timing out transactions for up to half a minute, which would be billed to
# the next measurement.
echo "== CPU per call at $cpu_call_rate/s: INVITE/100/180/200/ACK, ${call_hold_ms} ms, BYE/200"
for transport in udp tcp; do
    for name in "${servers[@]}"; do start_callee "$name" "$transport"; done
done
# Rounds alternate between the servers; the median of the rounds is kept, so one burst of
# other work on the machine does not decide the figure.
for ((round = 1; round <= cpu_rounds; round++)); do
    for transport in udp tcp; do
        for name in "${servers[@]}"; do
            ensure_callee "$name" "$transport"
            measure_call_cpu "$name" "$transport"
        done
    done
done
for transport in udp tcp; do
    for name in "${servers[@]}"; do
        samples=${cpu_samples[cpu_call_$transport,$name]:-}
        [[ -n $samples ]] || continue
        result[cpu_call_$transport,$name]=$(tr ' ' '\n' <<<"$samples" | sed '/^$/d' | sort -n |
            awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : v[NR / 2] }')
        echo "$name $transport: CPU us/call in each round:$samples;" \
            "median ${result[cpu_call_$transport,$name]}"
    done
done

for transport in udp tcp; do
    if [[ $transport == udp ]]; then client=("${udp_client[@]}"); else client=("${tcp_client[@]}"); fi
    echo "== highest clean call rate over ${transport^^}"
    ladder "calls_$transport" uac.xml "${call_rates[@]}" -- "${client[@]}" \
        -key callee "callee-$transport"
    for name in "${servers[@]}"; do stop_callee "$name" "$transport"; done
done

echo "== REGISTERs (UDP, each a new user)"
ladder registers register.xml "${register_rates[@]}" -- "${udp_client[@]}"

for name in "${servers[@]}"; do stop_server "$name"; done

# --- the table --------------------------------------------------------------------------------
echo
echo "strowger/kamailio: above 1 is better for rates, below 1 is better for CPU and memory."
echo "'>=N': clean at the top step N, the limit is higher; '<N': the first step failed;" \
    "'-': not measured."
printf '%-32s %12s %12s %18s\n' figure strowger kamailio strowger/kamailio
row() { # FIGURE LABEL
    local s=${result[$1,strowger]:--} k=${result[$1,kamailio]:--} ratio=-
    if [[ ${s#>=} =~ ^[0-9.]+$ && ${k#>=} =~ ^[0-9.]+$ ]]; then
        ratio=$(awk -v s="${s#>=}" -v k="${k#>=}" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "-" }')
    fi
    printf '%-32s %12s %12s %18s\n' "$2" "$s" "$k" "$ratio"
}
row calls_udp "calls/s UDP, 0 failed"
row calls_tcp "calls/s TCP, 0 failed"
row cpu_call_udp "CPU us/call UDP @${cpu_call_rate}/s"
row cpu_call_tcp "CPU us/call TCP @${cpu_call_rate}/s"
row registers "REGISTER/s, 0 failed"
row cpu_register "CPU us/REGISTER"
row binding_bytes "bytes/binding"
row tcp_conn_bytes "bytes/idle TCP connection"
