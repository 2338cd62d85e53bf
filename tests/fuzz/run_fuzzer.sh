#!/bin/sh
# Runs a libFuzzer target from the clang build.
#   run_fuzzer.sh FUZZER RUNS [libFuzzer flags] SEED_DIR...
# RUNS > 0: a fixed, deterministic budget (-seed=1), as the test suite runs it.
# RUNS = 0: open-ended fuzzing until stopped (Ctrl-C); new inputs go to a scratch directory.
# A crashing input is kept as crash-* next to the fuzzer binary, for a regression file.
set -eu
fuzzer=$1
runs=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$(dirname "$fuzzer")/"
if [ "$runs" -gt 0 ]; then
    exec_args="-seed=1 -runs=$runs"
else
    exec_args="-seed=0"
fi
# shellcheck disable=SC2086 # exec_args is a list of flags
"$fuzzer" $exec_args -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$work" "$@"
