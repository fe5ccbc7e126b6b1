#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs the packages OncoMesh needs, builds it,
# and runs `oncomesh demo` (three synthetic hospitals as nodes and a hub on loopback, example
# questions answered through Beacon v2). Extra arguments go to `oncomesh demo`, e.g.
#   scripts/demo.sh --sizes 20000,5000,1000 --no-wait
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target oncomesh
exec build/oncomesh demo --dir "${ONCOMESH_DEMO_DIR:-build/demo}" "$@"
