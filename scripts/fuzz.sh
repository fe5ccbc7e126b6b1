#!/usr/bin/env bash
# Fuzzes OncoMesh's parsers of untrusted input with libFuzzer (docs/fuzzing.md): installs the
# packages (clang, libfuzzer-14-dev), configures build-fuzz/ with clang and -DONCOMESH_FUZZ=ON
# (everything instrumented, ASan + UBSan), builds the targets and runs each for a bounded time.
#
#   scripts/fuzz.sh                      every target for 60 s, two at a time
#   scripts/fuzz.sh --seconds 600        the long run (10 minutes per target)
#   scripts/fuzz.sh --jobs 4 vcf dicom   some targets, four at a time
#   scripts/fuzz.sh --list               the targets
#
# Each target starts from its committed seeds (fuzz/corpus/<target>/) and, for the VCF and
# DICOM targets, the samples of the shared folder; what it learns is kept in
# build-fuzz/corpus/<target>/ for the next run. A crash, a sanitizer report, a leak or a timeout
# leaves its input in build-fuzz/artifacts/<target>/ and makes the script exit 1, naming it;
# replay it with build-fuzz/fuzz/<target>_fuzz FILE. The log of each run is
# build-fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(beacon_post beacon_get filters jws passport htsget dicomweb_qido fhir_ndjson vcf dicom)
seconds=60
jobs=2
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --list) printf '%s\n' "${targets_all[@]}"; exit 0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${targets_all[@]}")
for t in "${targets[@]}"; do
  [[ " ${targets_all[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (--list)" >&2; exit 2; }
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: --seconds takes a positive number" >&2; exit 2; }

./scripts/install-deps.sh
shared="${ONCOMESH_SHARED_DIR:-$(cd .. && pwd)/shared}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# -O1 and line tables only: the instrumented build compiles much faster than at -O2 -g, and the
# sanitizers' stacks still name file and line. Assertions stay on (no NDEBUG).
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  -DONCOMESH_FUZZ=ON -DONCOMESH_BUILD_TESTS=OFF -DONCOMESH_BUILD_BENCH=OFF -DONCOMESH_WERROR=ON \
  -DONCOMESH_SHARED_DIR="$shared" "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

# Sanitizers: any UBSan report is fatal (the build also says -fno-sanitize-recover); leaks are
# checked; symbolised stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local t="$1"
  local work="build-fuzz/corpus/$t" artifacts="build-fuzz/artifacts/$t" log="build-fuzz/logs/$t.log"
  mkdir -p "$work" "$artifacts" build-fuzz/logs
  rm -f "build-fuzz/logs/$t.failed"
  local extra=()
  case "$t" in
    vcf) [ -d "$shared/data/vcf" ] && extra+=("$shared/data/vcf") ;;
    dicom) [ -d "$shared/data/dicom" ] && extra+=("$shared/data/dicom") ;;
  esac
  # -max_len: larger than every seed of ours, small enough that the shared samples (up to a few
  # hundred KB) are cut rather than slowing every run. -timeout: one input in 10 s is a hang.
  if "build-fuzz/fuzz/${t}_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" "fuzz/corpus/$t" "${extra[@]}" >"$log" 2>&1; then
    echo "fuzz.sh: $t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs in ${seconds} s, nothing found"
  else
    echo "fuzz.sh: $t: FOUND something: $(ls "$artifacts" | tr '\n' ' ')(log: $log)" >&2
    grep -m1 -E 'ERROR: |runtime error|fuzz: |deadly signal|Timeout|out-of-memory' "$log" >&2 || true
    touch "build-fuzz/logs/$t.failed"
  fi
}

for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_one "$t" &
done
wait
failed=0
for t in "${targets[@]}"; do
  [ ! -e "build-fuzz/logs/$t.failed" ] || failed=1
done
exit "$failed"
