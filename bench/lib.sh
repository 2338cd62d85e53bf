# Shell helpers the benchmark scripts share (sourced by bench/*/run.sh, not run on its own).

# OPTION VALUE...: refuses an option given without a value.
need_value() { [[ $# -ge 2 && -n $2 ]] || { echo "$1 needs a value (see --help)" >&2; exit 2; }; }

in_range() { # OPTION VALUE MIN MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
        echo "$1 must be an integer in $3..$4" >&2
        exit 2
    fi
}

running() { # true while the process exists and is not a zombie awaiting our wait
    local stat
    [[ -r /proc/$1/stat ]] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

stop_pid() { # SIGTERM a process we started, wait up to 10 s, then SIGKILL; reap it
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        echo "pid $pid ignored SIGTERM for 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

pick_port() { # a loopback port free for both UDP and TCP right now (the kernel picks it)
    python3 -c '
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port")'
}

children_of() { # PIDs whose parent is $1
    local f stat fields
    for f in /proc/[0-9]*/stat; do
        read -r stat 2>/dev/null <"$f" || continue
        read -ra fields <<<"${stat##*) }" # fields[0] is field 3 (state); comm may hold spaces
        if [[ ${fields[1]} == "$1" ]]; then
            f=${f#/proc/}
            echo "${f%/stat}"
        fi
    done
}

stop_tree() { # a server's main process (stop_pid), then any worker it left behind
    local pid=$1 children child
    children=$(children_of "$pid")
    stop_pid "$pid"
    for child in $children; do
        if running "$child"; then kill -KILL "$child" 2>/dev/null || true; fi
    done
}

tree_cpu_ticks() { # utime + stime (fields 14 and 15) over a process and its children
    local pid total=0 stat fields
    for pid in "$1" $(children_of "$1"); do
        read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
        read -ra fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

tree_pss_kib() { # proportional set size over a process and its children, KiB
    local pid total=0 kib
    for pid in "$1" $(children_of "$1"); do
        kib=$(awk '/^Pss:/ { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null) || kib=0
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}
