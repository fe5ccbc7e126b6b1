#!/usr/bin/env bash
# Builds OncoMesh and runs the whole test suite (unit and integration), from a fresh Debian 12
# machine: installs the packages it needs, configures, builds, runs ctest.
#   scripts/test.sh            Release build in build/ (warnings are errors)
#   BUILD_TYPE=Asan scripts/test.sh   the same under AddressSanitizer + UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests read the read-only shared/ folder beside the repository (Beacon v2 schemas and
# validator, DICOM/VCF/FHIR samples, the R oracle); without it most of them would fail one by one.
shared="${ONCOMESH_SHARED_DIR:-$(cd .. && pwd)/shared}"
if [ ! -d "$shared/beacon-v2" ] || [ ! -d "$shared/data" ]; then
  echo "test.sh: the shared folder $shared (beacon-v2/, data/, tools/) is missing; the tests need it" >&2
  echo "         beside the repository, as CI provides it (or set ONCOMESH_SHARED_DIR)." >&2
  exit 2
fi
./scripts/install-deps.sh
build_type="${BUILD_TYPE:-Release}"
build_dir="build"
[ "$build_type" = "Release" ] || build_dir="build-$(echo "$build_type" | tr '[:upper:]' '[:lower:]')"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DONCOMESH_WERROR=ON \
  -DONCOMESH_SHARED_DIR="$shared"
cmake --build "$build_dir" -j "$(nproc)"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 900
