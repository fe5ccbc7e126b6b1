#!/usr/bin/env bash
# ctest BenchSmoke: bench/run.sh --smoke with the binaries of this build. Fails when the run
# fails, when its summary is missing, or when a figure it should have measured reads n/a.
#   tests/bench_smoke.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
log=$(mktemp /tmp/oncomesh-bench-smoke.XXXXXX)
trap 'rm -f "$log"' EXIT
if ! bash "$src/bench/run.sh" --smoke --no-build --build-dir "$build" >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "bench_smoke: bench/run.sh --smoke failed (its last lines above)"
  exit 1
fi
summary=$(sed -n '/OncoMesh benchmark summary (smoke)/,$p' "$log")
if [ -z "$summary" ]; then
  tail -n 60 "$log"
  echo "bench_smoke: no summary printed"
  exit 1
fi
printf '%s\n' "$summary"
if grep -n 'n/a' <<<"$summary"; then
  echo "bench_smoke: the lines above have figures that were not measured (n/a)"
  exit 1
fi
echo "bench_smoke: every part ran, every figure measured"
