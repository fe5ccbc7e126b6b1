#!/usr/bin/env bash
# Builds OncoMesh and runs the whole test suite (unit and integration), from a fresh Debian 12
# machine: installs the packages it needs, configures, builds, runs ctest.
#   scripts/test.sh            Release build in build/ (warnings are errors)
#   BUILD_TYPE=Asan scripts/test.sh   the same under AddressSanitizer + UBSan, in build-asan/:
#                                     unit and integration tests (the `oncomesh` processes the
#                                     integration tests start are sanitized too), fuzz corpus
#                                     replay; any sanitizer report of any process fails the run
#   CTEST_ARGS="-R HubTest" scripts/test.sh   only the tests ctest selects
# It fails when a test fails, and when any test was skipped or not run.
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
ctest_timeout=900
if [ "$build_type" = "Asan" ]; then
  # Under the sanitizers the integration tests' `oncomesh` processes are this build's too
  # (tests/CMakeLists.txt: ONCOMESH_BINARY is the oncomesh target of the same build). A report in
  # one of them must fail the run even when the test does not look at how the process ended (a
  # leak found at exit after SIGTERM, an error in a command whose output is all the test reads):
  # every process writes its reports to sanitizer-reports/<name>.<pid>, and any such file fails
  # the run. halt_on_error: the first report ends the process (UBSan as ASan).
  reports="$PWD/sanitizer-reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  ctest_timeout=1800
fi
# A skipped test is a failure here: ctest counts gtest's skips (and tests it did not run) as
# passes ("100% tests passed", exit 0) and only lists them under "The following tests did not
# run:". A suite whose setup failed, or a missing tool turned into GTEST_SKIP, must not look green.
log="ctest.log"
status=0
# CTEST_ARGS: more ctest options, e.g. CTEST_ARGS="-R BeaconApiTest" for a part of the suite.
# shellcheck disable=SC2086
ctest --output-on-failure -j "$(nproc)" --timeout "$ctest_timeout" ${CTEST_ARGS:-} 2>&1 | tee "$log" || status=$?
if grep -q "The following tests did not run:" "$log"; then
  sed -n '/The following tests did not run:/,/^$/p' "$log" >&2
  echo "test.sh: FAILED: the tests above were skipped or not run; a skip is a failure" >&2
  [ "$status" -ne 0 ] || status=1
fi
if [ "$build_type" = "Asan" ] && compgen -G "$reports/*" >/dev/null; then
  echo "test.sh: sanitizer reports (each from one process, named by its pid):" >&2
  for f in "$reports"/*; do
    echo "==== $f" >&2
    cat "$f" >&2
  done
  status=1
fi
exit "$status"
