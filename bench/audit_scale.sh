#!/usr/bin/env bash
# The audit log at scale (issue 12 item 17; docs/audit.md, "Figures at scale"): a node whose
# log holds N entries of ~816 bytes (default 3,000,000: some 2.4 GB, what a 5-minute soak at
# 10,000 req/s writes). Prints, for each oncomesh binary given:
#   - `oncomesh audit verify --dir NODE`: seconds and entries/s;
#   - `oncomesh node serve`: seconds from its start to the first answer of /api/info.
#
#   bench/audit_scale.sh [--entries N] [--build-dir DIR] [--compare OTHER_ONCOMESH] [--keep]
#
# --compare runs the same measurements with another binary (e.g. a build of main: the figures
# before a change) on the same log. ONCOMESH_BENCH_AUDIT_DIR puts the node on another disk.
# Every step fails loudly; the node and the temporary directory are removed on exit.
set -euo pipefail

ENTRIES=3000000
BUILD_DIR="$(cd "$(dirname "$0")/.." && pwd)/build"
COMPARE=""
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --entries) ENTRIES="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --compare) COMPARE="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "audit_scale.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
ONCOMESH="$BUILD_DIR/oncomesh"
GENERATOR="$BUILD_DIR/bench/audit_scale_bench"
for f in "$ONCOMESH" "$GENERATOR" ${COMPARE:+"$COMPARE"}; do
  [[ -x "$f" ]] || { echo "audit_scale.sh: $f is not built" >&2; exit 1; }
done

WORK="$(mktemp -d "${ONCOMESH_BENCH_AUDIT_DIR:-${TMPDIR:-/tmp}}/audit-scale.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ "$KEEP" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
NODE="$WORK/node"

# Made by the oldest binary compared: a newer one reads an older node.yaml, not the reverse.
"${COMPARE:-$ONCOMESH}" node init --dir "$NODE" --name scale >/dev/null \
  || { echo "audit_scale.sh: node init failed" >&2; exit 1; }
echo "generating $ENTRIES entries..."
"$GENERATOR" generate "$NODE" "$ENTRIES" || { echo "audit_scale.sh: generating failed" >&2; exit 1; }
echo "log: $(du -sh "$NODE/audit" | cut -f1) in $(ls "$NODE/audit" | grep -c '^audit-') segments"

now() { date +%s.%N; }

measure() {
  local bin="$1" label="$2" port start end
  # Wall time and the CPU time of the process (user + system, all threads): on a shared machine
  # the wall time varies with the load, the CPU time much less.
  python3 - "$label" "$bin" audit verify --dir "$NODE" <<'PY' || { echo "audit_scale.sh: $label: verify failed" >&2; exit 1; }
import re, resource, subprocess, sys, time
label, argv = sys.argv[1], sys.argv[2:]
t = time.time()
r = subprocess.run(argv, capture_output=True, text=True)
wall = time.time() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
m = re.search(r"(\d+) entries", r.stdout)
if r.returncode != 0 or not m:
    sys.stderr.write(r.stdout + r.stderr)
    sys.exit(1)
n = int(m.group(1))
print(f"{label}: audit verify: {n:,} entries in {wall:.2f} s wall ({n / wall:,.0f} entries/s), "
      f"{cpu:.2f} s CPU ({n / cpu:,.0f} entries per CPU-second)")
PY
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  start=$(now)
  "$bin" node serve --dir "$NODE" --port "$port" >"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 600))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/api/info"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; echo "audit_scale.sh: $label: node serve exited" >&2; exit 1; }
    (( SECONDS < deadline )) || { echo "audit_scale.sh: $label: no answer in 600 s" >&2; exit 1; }
    sleep 0.01
  done
  end=$(now)
  python3 -c "import sys; print(f'$label: node serve to first answer: {float(sys.argv[2])-float(sys.argv[1]):.2f} s')" "$start" "$end"
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || { echo "audit_scale.sh: $label: node serve stopped with an error" >&2; exit 1; }
  SERVER_PID=""
}

measure "$ONCOMESH" "this build"
[[ -z "$COMPARE" ]] || measure "$COMPARE" "$COMPARE"
"$GENERATOR" open "$NODE" | sed 's/^/this build, in process: /' \
  || { echo "audit_scale.sh: opening the log in process failed" >&2; exit 1; }
