#!/usr/bin/env bash
# The two ways to set Strowger up on a fresh Debian 12 machine (both idempotent):
#   scripts/setup.sh serve [ARGS...]   install what the server needs, build it, start it
#                                      (ARGS go to `strowger serve`, e.g. --set log.level=debug)
#   scripts/setup.sh test              install what the tests need, build, run the whole suite
#                                      (g++ build, plus a clang fuzz build with sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
shift || true

# Build tools and the libraries the server links (design.md: Dependencies).
build_packages=(cmake ninja-build g++ pkg-config libboost-dev libspdlog-dev libfmt-dev
                libtomlplusplus-dev libcli11-dev libssl-dev zlib1g-dev libsqlite3-dev
                nlohmann-json3-dev)
# What the tests drive or link: GoogleTest, Google Benchmark, coturn's STUN/TURN tools,
# Debian's classic STUN client, Python for the integration scripts, clang with libFuzzer and
# the sanitizer runtimes for the fuzz build, the SIP parsers the benchmarks compare with, and
# the SIP peers: sipp, baresip (with tshark to count its RTP) and Kamailio, with its TLS and
# WebSocket modules (bench/sip_auth), for comparison, and
# iproute2 with nftables for the NAT lab's namespaces and NAT routers, openssl for test
# certificates, and Chromium for the browser tests (driven by playwright-core from npm).
test_packages=(libgtest-dev libgmock-dev libbenchmark-dev coturn stun-client python3
               clang libclang-rt-14-dev libosip2-dev libsofia-sip-ua-dev
               sip-tester baresip-core tshark kamailio kamailio-tls-modules
               kamailio-websocket-modules iproute2 nftables openssl chromium)

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get runs only when something is missing, so a second run costs nothing.
install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# The npm packages a folder's package-lock.json names, installed again only when the lock
# file is newer than the last install.
npm_install() {
    local dir=$1
    if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "== npm ci in $dir"
        npm ci --prefix "$dir" --no-audit --no-fund
    fi
}

jobs=$(nproc)

# Node.js and npm build /phone (SIP.js bundled by esbuild, both fine on Debian 12's Node 18).
# A machine that already has them (from any source) keeps them.
install_node() {
    command -v npm >/dev/null || install_packages nodejs npm
    npm_install web/phone
}

# The browser tests' playwright-core needs Node 20 or later. Where the system's node is older
# (Debian 12's is 18), Node 20 comes from the npm registry's `node` package into build/node20,
# and the tests run with it; the system's node stays as it is.
test_node() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -ge 20 ]; then
        command -v node
        return
    fi
    if [ ! -x build/node20/node_modules/.bin/node ]; then
        echo "== node $major is older than the browser tests need: installing node@20 into build/node20" >&2
        npm install --prefix build/node20 --no-audit --no-fund --no-save node@20 >&2
    fi
    echo "$PWD/build/node20/node_modules/.bin/node"
}

case "$mode" in
serve)
    install_packages "${build_packages[@]}"
    install_node
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DSTROWGER_TESTS=OFF -DSTROWGER_BENCH=OFF
    cmake --build build/release -j "$jobs"
    echo "== starting build/release/src/app/strowger serve $*"
    exec build/release/src/app/strowger serve "$@"
    ;;
test)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    install_node
    npm_install tests/browser
    node_for_tests=$(test_node)
    # 1. The project's g++ build: unit, integration and corpus-replay tests, benchmarks built.
    cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSTROWGER_SANITIZE= -DSTROWGER_TESTS=ON -DSTROWGER_BENCH=ON \
        -DSTROWGER_NODE="$node_for_tests"
    cmake --build build/test -j "$jobs"
    # 2. The one sanitizer build: clang with libFuzzer, AddressSanitizer and UBSan, of the
    #    protocol libraries and their fuzz targets, each run for a fixed, seeded budget.
    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSTROWGER_FUZZ=ON -DSTROWGER_SANITIZE=address,undefined
    cmake --build build/fuzz -j "$jobs"
    ctest --test-dir build/fuzz --output-on-failure
    ctest --test-dir build/test --output-on-failure -j "$jobs"
    ;;
*)
    echo "usage: $0 serve [strowger serve options] | $0 test" >&2
    exit 2
    ;;
esac
