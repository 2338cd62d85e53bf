#!/usr/bin/env bash
# Digest and secure-transport benchmark: strowger vs Kamailio as registrars that authenticate
# REGISTERs (digest, MD5, qop=auth, nonce-count checked) and hold SIP over TLS and secure
# WebSocket connections, loaded by the same clients on 127.0.0.1 in the same run, with ratios
# strowger/kamailio.
#
# Usage: bench/sip_auth/run.sh [STROWGER_BINARY] [--users N] [--rate R] [--connections N]
#                              [--rounds K] [--only strowger|kamailio]
#   STROWGER_BINARY defaults to build/bench/src/app/strowger (a Release build).
#   --users N        distinct accounts, each registered once per round (default 2000)
#   --rate R         REGISTERs per second SIPp offers (default 400)
#   --connections N  idle TLS and WSS connections for memory per connection (default 2000)
#   --rounds K       rounds of the REGISTER measurements, median reported (default 3)
#
# Figures, for each server:
#   CPU us/auth REGISTER   server CPU per authenticated registration (REGISTER, 401, REGISTER
#                          with credentials, 200), at the fixed rate, each user new
#   CPU us/REGISTER        the same registrations with authentication off (one REGISTER, 200)
#   auth cost us           the difference: what authenticating one registration costs
#   bytes/idle TLS conn    memory growth for idle SIP over TLS connections, per connection
#   bytes/idle WSS conn    the same after the WebSocket upgrade (subprotocol sip)
# CPU is utime+stime from /proc/PID/stat over the server's processes; memory is the sum of Pss
# over them (Kamailio's workers share its memory segment; Pss counts each page once), as in
# bench/sip_load. Both servers get 2 workers and the same certificate (EC P-256, from
# `strowger cert`). register_load.py drives the REGISTERs over UDP (SIPp cannot take the
# [authentication] user name from an injection file); the idle connections come from
# idle_secure.py.
#
# Every load is bounded: each REGISTER run has a count, its own deadline and a hard `timeout`
# around it; the connection client opens at most N connections within 120 s and exits after a
# bounded hold. Servers and clients run on free loopback ports and are stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib.sh"
here=$root/bench/sip_auth

strowger_bin=
only=
users=2000
rate=400
connections=2000
rounds=3
while (($#)); do
    case $1 in
    --only) need_value "$@"; only=$2; shift 2 ;;
    --users) need_value "$@"; in_range "$1" "$2" 10 100000; users=$2; shift 2 ;;
    --rate) need_value "$@"; in_range "$1" "$2" 10 20000; rate=$2; shift 2 ;;
    --connections) need_value "$@"; in_range "$1" "$2" 10 50000; connections=$2; shift 2 ;;
    --rounds) need_value "$@"; in_range "$1" "$2" 1 9; rounds=$2; shift 2 ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
        [[ -z $strowger_bin ]] || { echo "one STROWGER_BINARY only (see --help)" >&2; exit 2; }
        strowger_bin=$1
        shift
        ;;
    esac
done
case $only in
'') servers=(strowger kamailio) ;;
strowger | kamailio) servers=("$only") ;;
*) echo "--only takes strowger or kamailio, not '$only'" >&2; exit 2 ;;
esac

strowger_bin=${strowger_bin:-build/bench/src/app/strowger}
if [[ $strowger_bin != /* && ! -e $strowger_bin && -e $root/$strowger_bin ]]; then
    strowger_bin=$root/$strowger_bin
fi
[[ -x $strowger_bin ]] || { echo "missing $strowger_bin (a Release build; see bench/sip_load)" >&2; exit 1; }
for tool in python3 timeout kamailio; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
for module in tls websocket auth htable db_text; do
    if [[ ! -e /usr/lib/x86_64-linux-gnu/kamailio/modules/$module.so ]]; then
        echo "Kamailio module $module missing (Debian: kamailio kamailio-tls-modules" \
            "kamailio-websocket-modules)" >&2
        exit 1
    fi
done

workers=2
settle_seconds=1
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
ulimit -n "$nofile"
if ((nofile < connections + 2048)); then
    connections=$((nofile - 2048))
    echo "note: RLIMIT_NOFILE is $nofile; using $connections connections" >&2
fi
clk_tck=$(getconf CLK_TCK)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sip-auth-bench.XXXXXX")
declare -A server_pid port_udp port_tls port_wss
background_pids=()

stop_server() { # the server's processes, main and workers
    local name=$1 pid=${server_pid[$1]:-}
    [[ -n $pid ]] || return 0
    stop_tree "$pid"
    server_pid[$name]=
}
cleanup() {
    local pid name
    for pid in "${background_pids[@]}"; do if running "$pid"; then stop_pid "$pid"; fi; done
    for name in "${!server_pid[@]}"; do stop_server "$name"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { tree_cpu_ticks "${server_pid[$1]}"; } # utime+stime over the server, ticks
pss_kib() { tree_pss_kib "${server_pid[$1]}"; } # Pss over the server's processes, KiB

# --- accounts and certificate, the same for both servers -------------------------------------
realm=bench.test
mkdir -p "$tmp/strowger" "$tmp/kamailio/db"
"$strowger_bin" cert --name 127.0.0.1 --set "general.data_dir=$tmp/strowger" >/dev/null
cert=$tmp/strowger/cert.pem
key=$tmp/strowger/key.pem
# The accounts go into strowger's store as `strowger user add` would write them (the first by
# the command itself, which creates the table; the rest in one transaction, as thousands of
# commands would take minutes) and into a db_text table for Kamailio, with the same
# HA1 = MD5(user:realm:password) (Kamailio loads them into an htable).
"$strowger_bin" user add bench0 pw-bench0 --set "general.data_dir=$tmp/strowger" \
    --set "general.realm=$realm" >/dev/null
python3 - "$tmp" "$users" "$realm" <<'EOF'
import hashlib, sqlite3, sys, time
tmp, users, realm = sys.argv[1], int(sys.argv[2]), sys.argv[3]
now = int(time.time())
rows = []
for i in range(users):
    name, password = f"bench{i}", f"pw-bench{i}"
    md5 = hashlib.md5(f"{name}:{realm}:{password}".encode()).hexdigest()
    sha = hashlib.sha256(f"{name}:{realm}:{password}".encode()).hexdigest()
    rows.append((name, realm, md5, sha, now, now))
db = sqlite3.connect(f"{tmp}/strowger/strowger.db")
with db:
    db.executemany("INSERT OR IGNORE INTO users (name, realm, ha1_md5, ha1_sha256, created, updated)"
                   " VALUES (?, ?, ?, ?, ?, ?)", rows)
db.close()
with open(f"{tmp}/kamailio/db/version", "w") as f:
    f.write("table_name(string) table_version(int)\nusers_ht:2\n")
with open(f"{tmp}/kamailio/db/users_ht", "w") as f:  # Kamailio's htable table, schema 2
    f.write("id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)\n")
    for i, (name, _, md5, _, _, _) in enumerate(rows):
        f.write(f"{i + 1}:{name}:0:0:{md5}:0\n")
EOF
cat >"$tmp/kamailio/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
certificate = $cert
private_key = $key
verify_certificate = no
require_certificate = no
EOF

# --- servers ------------------------------------------------------------------------------------
start_strowger() { # AUTH: required | off
    local udp tls wss
    udp=$(pick_port); tls=$(pick_port); wss=$(pick_port)
    "$strowger_bin" serve \
        --set "sip.listen=[\"udp:127.0.0.1:$udp\",\"tls:127.0.0.1:$tls\",\"wss:127.0.0.1:$wss\"]" \
        --set "stun.listen=[\"udp:127.0.0.1:$(pick_port)\"]" \
        --set "http.listen=[\"tcp:127.0.0.1:$(pick_port)\"]" \
        --set "general.threads=$workers" --set "general.data_dir=$tmp/strowger" \
        --set "general.realm=$realm" --set "sip.auth=$1" \
        --set 'sip.auth_algorithms=["MD5"]' --set sip.tcp_idle_timeout=600 \
        --set log.level=warn >"$tmp/strowger.log" 2>&1 &
    server_pid[strowger]=$!
    port_udp[strowger]=$udp; port_tls[strowger]=$tls; port_wss[strowger]=$wss
}
start_kamailio() { # AUTH: required | off
    local udp tls define=()
    udp=$(pick_port); tls=$(pick_port)
    [[ $1 == required ]] && define=(-A WITH_AUTH)
    kamailio -f "$here/kamailio.cfg" -DD -E -Y "$tmp/kamailio" -P "$tmp/kamailio/kamailio.pid" \
        -m 1024 -M 16 -x tlsf -X tlsf -l "udp:127.0.0.1:$udp" -l "tls:127.0.0.1:$tls" \
        -A "WORKERS=$workers" -A "MAX_TCP=$((connections + 1024))" -A "MAX_FILES=$nofile" \
        -A "DBURL=\"text://$tmp/kamailio/db\"" -A "TLSCFG=\"$tmp/kamailio/tls.cfg\"" \
        "${define[@]}" >"$tmp/kamailio.log" 2>&1 &
    server_pid[kamailio]=$!
    port_udp[kamailio]=$udp; port_tls[kamailio]=$tls; port_wss[kamailio]=$tls
}
start() { # SERVER AUTH
    "start_$1" "$2"
    if ! python3 "$root/bench/sip_load/sip_probe.py" "${port_udp[$1]}" 10 >/dev/null ||
        ! running "${server_pid[$1]}"; then
        echo "$1 did not answer OPTIONS; its log:" >&2
        tail -20 "$tmp/$1.log" >&2
        exit 1
    fi
}

# --- measurements -------------------------------------------------------------------------------
# register_cpu SERVER [--plain]: CPU per registration of every user once; prints microseconds.
register_cpu() {
    local name=$1 id before after rc=0 budget
    shift
    id=$(mktemp -u XXXXXX)
    budget=$((users / rate + 25))
    sleep "$settle_seconds"
    before=$(cpu_ticks "$name")
    timeout -k 2 "$budget" python3 "$here/register_load.py" "${port_udp[$name]}" "$users" \
        "$rate" "$realm" "$@" >"$tmp/load-$id.out" 2>"$tmp/load-$id.err" || rc=$?
    after=$(cpu_ticks "$name")
    if ((rc != 0)); then
        echo "$name: register_load $* exit $rc: $(cat "$tmp/load-$id.out") $(head -c 200 "$tmp/load-$id.err")" >&2
        echo "-"
        return
    fi
    awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$users" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'
}
median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

# idle_memory SERVER MODE: bytes per idle connection (tls or wss).
idle_memory() {
    local name=$1 mode=$2 port before after opened fifo
    fifo=$(mktemp -u "$tmp/hold.XXXXXX") # in $(...): a counter would not survive the subshell
    port=${port_tls[$name]}
    [[ $mode == wss ]] && port=${port_wss[$name]}
    sleep "$settle_seconds"
    before=$(pss_kib "$name")
    mkfifo "$fifo"
    timeout -k 2 300 python3 "$here/idle_secure.py" "$port" "$connections" "$mode" 240 \
        <"$fifo" >"$fifo.out" 2>"$fifo.err" &
    local client=$!
    background_pids+=("$client")
    exec {hold}>"$fifo" # keeps the client's stdin open until we are done measuring
    local waited=0
    until grep -q '^open ' "$fifo.out" 2>/dev/null; do
        sleep 0.2
        waited=$((waited + 1))
        if ((waited > 700)) || ! running "$client"; then break; fi
    done
    opened=$(awk '/^open / { print $2 }' "$fifo.out" 2>/dev/null)
    sleep "$settle_seconds"
    after=$(pss_kib "$name")
    exec {hold}>&-
    stop_pid "$client"
    if [[ -z $opened || $opened -lt $connections ]]; then
        echo "$name: only ${opened:-0} of $connections $mode connections opened: $(head -c 200 "$fifo.err")" >&2
    fi
    if [[ -z $opened || $opened -eq 0 ]]; then echo "-"; return; fi
    echo $(((after - before) * 1024 / opened))
}

declare -A auth_cpu plain_cpu tls_bytes wss_bytes
for name in "${servers[@]}"; do
    # Fresh bindings each round: the users register anew (new Call-IDs), so the registrar
    # does the same work every round.
    start "$name" required
    samples=()
    for ((r = 0; r < rounds; r++)); do samples+=("$(register_cpu "$name")"); done
    auth_cpu[$name]=$(median "${samples[@]}")
    tls_bytes[$name]=$(idle_memory "$name" tls)
    wss_bytes[$name]=$(idle_memory "$name" wss)
    stop_server "$name"
    start "$name" off
    samples=()
    for ((r = 0; r < rounds; r++)); do samples+=("$(register_cpu "$name" --plain)"); done
    plain_cpu[$name]=$(median "${samples[@]}")
    stop_server "$name"
    echo "$name done: auth ${auth_cpu[$name]} us, plain ${plain_cpu[$name]} us, tls ${tls_bytes[$name]} B, wss ${wss_bytes[$name]} B" >&2
done

value() { local -n table=$1; echo "${table[$2]:--}"; }
cost() {
    local a p
    a=$(value auth_cpu "$1"); p=$(value plain_cpu "$1")
    [[ $a == - || $p == - ]] && { echo -; return; }
    awk -v a="$a" -v p="$p" 'BEGIN { printf "%.1f", a - p }'
}
ratio() { [[ $1 == - || $2 == - ]] && { echo -; return; }; awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { # LABEL STROWGER KAMAILIO
    printf '%-36s %12s %12s %10s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
echo
echo "strowger $("$strowger_bin" version 2>/dev/null | head -1), kamailio $(kamailio -v | head -1 | awk '{print $3}');" \
    "$users users, $rate REGISTER/s, $connections connections, $rounds rounds, $workers workers"
printf '%-36s %12s %12s %10s\n' "" strowger kamailio ratio
row "CPU us/auth REGISTER (401 + 200)" "$(value auth_cpu strowger)" "$(value auth_cpu kamailio)"
row "CPU us/REGISTER, auth off" "$(value plain_cpu strowger)" "$(value plain_cpu kamailio)"
row "auth cost us/registration" "$(cost strowger)" "$(cost kamailio)"
row "bytes/idle TLS connection" "$(value tls_bytes strowger)" "$(value tls_bytes kamailio)"
row "bytes/idle WSS connection" "$(value wss_bytes strowger)" "$(value wss_bytes kamailio)"
