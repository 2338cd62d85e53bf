#!/usr/bin/env bash
# SIP parse benchmark: Strowger vs GNU oSIP vs sofia-sip, median ns per message (see README.md).
#
# Usage: bench/sip_parse/run.sh [BINARY] [EXTRA BENCHMARK FLAGS...]
#   BINARY defaults to build/bench/bench/sip_parse/sip_parse_bench (relative to the repo root
#   when not found from the current directory). Extra flags go to the binary, e.g.
#   --benchmark_filter=INVITE
#
# Each benchmark runs 5 repetitions of at least 0.2 s; the median of the 5 is reported. The
# binary first checks every parser's fields against the expected values and exits 1 on any
# mismatch, so this script fails instead of printing numbers for a parser that parsed nothing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-build/bench/bench/sip_parse/sip_parse_bench}
shift || true
if [[ $bin != /* && ! -e $bin && -e $root/$bin ]]; then bin=$root/$bin; fi
if [[ ! -x $bin ]]; then
    echo "missing $bin; build it first:" >&2
    echo "  cmake -S $root -B $root/build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release" \
        "-DSTROWGER_TESTS=OFF && ninja -C $root/build/bench sip_parse_bench" >&2
    exit 1
fi
if ! command -v python3 >/dev/null; then
    echo "python3 is needed to read the benchmark's JSON" >&2
    exit 1
fi

json=$(mktemp "${TMPDIR:-/tmp}/sip-parse-bench.XXXXXX.json")
trap 'rm -f "$json"' EXIT

# Google Benchmark 1.7 takes --benchmark_min_time as plain seconds (no "s" suffix, that is 1.8+).
# Random interleaving runs the 45 repetitions (9 benchmarks x 5) in a shuffled order, so a burst
# of load from something else on the machine is spread over all parsers rather than landing on
# one of them. The field checks print to stderr; the JSON report goes to stdout.
"$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.2 --benchmark_enable_random_interleaving=true \
    --benchmark_format=json "$@" >"$json"

python3 - "$json" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)

scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# CPU time per iteration, not wall time: the benchmark is single-threaded, and on a shared box
# (2 cores, builds and tests running beside it) wall time also counts time spent descheduled.
median = {}  # (message, parser) -> ns per message
cv = {}      # (message, parser) -> coefficient of variation over the repetitions, %
messages = []
errors = []
for b in report["benchmarks"]:
    if b.get("error_occurred"):
        errors.append(f'{b["name"]}: {b.get("error_message", "error")}')
        continue
    if b.get("run_type") != "aggregate":
        continue
    message, parser = b["run_name"].split("/", 1)
    if message not in messages:
        messages.append(message)
    if b.get("aggregate_name") == "median":
        median[(message, parser)] = b["cpu_time"] * scale[b.get("time_unit", "ns")]
    elif b.get("aggregate_name") == "cv":
        cv[(message, parser)] = b["cpu_time"] * 100

# Interleaving shuffles the report; show the messages in the binary's order.
order = ["INVITE", "200_OK", "REGISTER"]
messages.sort(key=lambda m: (order.index(m) if m in order else len(order), m))

if errors:
    print("benchmarks that failed:", *errors, sep="\n  ", file=sys.stderr)

ctx = report.get("context", {})
print(f'{ctx.get("host_name", "?")}: {ctx.get("num_cpus", "?")} CPUs at '
      f'{ctx.get("mhz_per_cpu", "?")} MHz, library build {ctx.get("library_build_type", "?")}')
print("median CPU ns per message (parse + read routing fields), 5 repetitions of >= 0.2 s;")
print("in brackets: coefficient of variation over the 5 repetitions\n")
parsers = ["strowger", "osip", "sofia"]
print(f'{"message":<10}' + "".join(f"{p:>16}" for p in parsers))
for m in messages:
    cells = []
    for p in parsers:
        cell = f'{median[(m, p)]:.0f} ({cv.get((m, p), 0):.0f}%)' if (m, p) in median else "-"
        cells.append(f"{cell:>16}")
    print(f"{m:<10}" + "".join(cells))
print()

status = 0
for m in messages:
    if not all((m, p) in median for p in parsers):
        print(f"{m}: missing results, no ratio")
        status = 1
        continue
    s, o, so = (median[(m, p)] for p in parsers)
    best_name, best = ("osip", o) if o <= so else ("sofia", so)
    ratio = best / s
    verdict = (f"{ratio:.1f}x faster than" if ratio >= 1 else f"{1 / ratio:.1f}x slower than")
    print(f"{m}: strowger {s:.0f} ns, osip {o:.0f} ns, sofia {so:.0f} ns -> "
          f"{verdict} the faster incumbent ({best_name})")
sys.exit(1 if errors else status)
EOF
