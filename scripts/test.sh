#!/usr/bin/env bash
# Builds OncoMesh and runs the whole test suite (unit and integration), from a fresh Debian 12
# machine: installs the packages it needs, configures, builds, runs ctest.
#   scripts/test.sh            Release build in build/ (warnings are errors)
#   BUILD_TYPE=Asan scripts/test.sh   the same under AddressSanitizer + UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
build_type="${BUILD_TYPE:-Release}"
build_dir="build"
[ "$build_type" = "Release" ] || build_dir="build-$(echo "$build_type" | tr '[:upper:]' '[:lower:]')"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DONCOMESH_WERROR=ON
cmake --build "$build_dir" -j "$(nproc)"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 900
