#!/usr/bin/env bash
# DICOM ingest side by side with Orthanc (Debian's `orthanc`, started here on loopback with a
# configuration of its own), on the same synthetic files, and imaging filter counts in-process.
# Called by bench/run.sh (--only-imaging, or as part of the full run):
#   bench/imaging.sh RESULTS_FILE TMP_DIR BUILD_DIR [STUDIES]
# For each system, from a fresh empty store each time:
#   - C-STORE from one `storescu` process (one association, the files one after another);
#   - C-STORE from 4 `storescu` processes at once, each sending a quarter of the studies;
#   - the node's `oncomesh ingest dicom` of the folder, and Orthanc's REST API (POST
#     /instances, keep-alive) from 1 and 4 client threads (how Orthanc's own docs load files).
# The node de-identifies every instance (PS3.15) while storing it; Orthanc stores them as they
# are. Results: instances/s and MB/s, and RESULT lines appended to RESULTS_FILE.
set -euo pipefail
results=$1 tmp=$2 build=$3 studies=${4:-120}
# DCMTK (storescu, Orthanc's and the node's DICOM servers) sets TCP_NODELAY only when asked:
# without it every C-STORE waits ~40 ms for a delayed ACK and both servers measure the same
# 11 instances/s. Set for every process here (the node sets it for itself anyway).
export TCP_NODELAY=1
oncomesh=$build/oncomesh
imaging_bench=$build/bench/imaging_bench
site=$tmp/imaging-site
work=$tmp/imaging
rm -rf "$work" && mkdir -p "$work"

"$oncomesh" synth --site ibench --individuals 20000 --seed 5 --images "$studies" --genomes 0 \
  --out "$site" >/dev/null
files=$(find "$site/dicom" -type f | wc -l)
bytes=$(du -sb "$site/dicom" | cut -f1)
echo "$studies synthetic studies (CT/MR/MG + SEG): $files files, $((bytes / 1000)) kB"
# Four groups of study folders, for the parallel senders.
mapfile -t dirs < <(find "$site/dicom" -mindepth 1 -maxdepth 1 -type d | sort)
for g in 0 1 2 3; do mkdir -p "$work/group$g"; done
for i in "${!dirs[@]}"; do cp -al "${dirs[$i]}" "$work/group$((i % 4))/"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", n/(b-a)}'; }
mbps() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.2f", n/1e6/(b-a)}'; }
record() {  # record SYSTEM HOW T0 T1
  local r m
  r=$(rate "$files" "$3" "$4") m=$(mbps "$bytes" "$3" "$4")
  printf '%-8s %-34s %8s instances/s %7s MB/s\n' "$1" "$2" "$r" "$m"
  echo "RESULT imaging ${1}_${2// /_}_per_s $r" >>"$results"
}
# storescu_all PORT AET DIR...: one storescu process per DIR, all at once; fails if one does.
storescu_all() {
  local port=$1 aet=$2 pids=() rc=0
  shift 2
  for d in "$@"; do
    storescu -R +sd +r -aet BENCH -aec "$aet" 127.0.0.1 "$port" "$d" >"$work/storescu.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
expect_instances() {  # expect_instances SYSTEM N
  [ "$2" -eq "$files" ] || { echo "imaging.sh: $1 holds $2 instances, not $files" >&2; exit 1; }
}

# ---------------------------------------------------------------- Orthanc
orthanc_pid=
start_orthanc() {
  local d=$work/orthanc
  rm -rf "$d" && mkdir -p "$d/storage"
  orthanc_http=$(free_port) orthanc_dicom=$(free_port)
  cat >"$d/orthanc.json" <<EOF
{ "Name": "bench", "StorageDirectory": "$d/storage", "IndexDirectory": "$d/storage",
  "HttpPort": $orthanc_http, "DicomPort": $orthanc_dicom, "DicomAet": "ORTHANC",
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "StorageCompression": false, "Plugins": [], "HttpServerEnabled": true,
  "DicomServerEnabled": true }
EOF
  Orthanc "$d/orthanc.json" >"$d/log" 2>&1 &
  orthanc_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$orthanc_http/system" >/dev/null && return 0
    sleep 0.1
  done
  echo "imaging.sh: Orthanc did not start (see $d/log)" >&2
  exit 1
}
stop_orthanc() { kill "$orthanc_pid" 2>/dev/null || true; wait "$orthanc_pid" 2>/dev/null || true; }
node_pid=
# Whatever fails (set -e), no server of this script outlives it.
stop_servers() {
  stop_orthanc
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
}
trap stop_servers EXIT
orthanc_instances() {
  curl -sf "http://127.0.0.1:$orthanc_http/statistics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'
}
rest_upload() {  # rest_upload PORT THREADS: POST /instances of every file, keep-alive
  python3 - "$1" "$2" "$site/dicom" <<'EOF'
import http.client, os, sys, threading
port, threads, root = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
failed = []
def work(part):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for p in part:
        with open(p, "rb") as f:
            c.request("POST", "/instances", f.read(), {"Content-Type": "application/dicom"})
        r = c.getresponse(); r.read()
        if r.status != 200: failed.append(p)
ts = [threading.Thread(target=work, args=(paths[i::threads],)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
sys.exit(1 if failed else 0)
EOF
}

echo "Orthanc $(Orthanc --version 2>&1 | head -1 | awk '{print $NF}'), SQLite index, no compression:"
start_orthanc; t0=$(now); storescu_all "$orthanc_dicom" ORTHANC "$site/dicom"; t1=$(now)
expect_instances orthanc "$(orthanc_instances)"; stop_orthanc; record orthanc "C-STORE 1 client" "$t0" "$t1"
start_orthanc; t0=$(now); storescu_all "$orthanc_dicom" ORTHANC "$work"/group*; t1=$(now)
expect_instances orthanc "$(orthanc_instances)"; stop_orthanc; record orthanc "C-STORE 4 clients" "$t0" "$t1"
start_orthanc; t0=$(now); rest_upload "$orthanc_http" 1; t1=$(now)
expect_instances orthanc "$(orthanc_instances)"; stop_orthanc; record orthanc "REST 1 client" "$t0" "$t1"
start_orthanc; t0=$(now); rest_upload "$orthanc_http" 4; t1=$(now)
expect_instances orthanc "$(orthanc_instances)"; stop_orthanc; record orthanc "REST 4 clients" "$t0" "$t1"

# ---------------------------------------------------------------- the node
node_instances() { sqlite3 "$1/store.sqlite" 'SELECT count(*) FROM dicom_instances'; }
fresh_node() { rm -rf "$work/node" && "$oncomesh" node init --dir "$work/node" --name ibench --port 0 >/dev/null; }
serve_and_send() {  # serve_and_send DIR...: node serve with its SCP, storescu_all, stop
  local port
  port=$(free_port)
  "$oncomesh" node serve --dir "$work/node" --port 0 --dicom-port "$port" >"$work/serve.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 100); do grep -q ' dicom ' "$work/serve.log" && break; sleep 0.1; done
  t0=$(now); storescu_all "$port" ONCOMESH "$@"; t1=$(now)
  kill -INT "$node_pid"; wait "$node_pid" || true
  node_pid=
}
echo "OncoMesh node (de-identifying every instance, PS3.15 Basic Profile):"
fresh_node; serve_and_send "$site/dicom"
expect_instances node "$(node_instances "$work/node")"; record node "C-STORE 1 client" "$t0" "$t1"
fresh_node; serve_and_send "$work"/group*
expect_instances node "$(node_instances "$work/node")"; record node "C-STORE 4 clients" "$t0" "$t1"
fresh_node; t0=$(now); "$oncomesh" ingest dicom --dir "$work/node" "$site/dicom" >"$work/ingest.log"; t1=$(now)
expect_instances node "$(node_instances "$work/node")"; record node "ingest dicom (folder)" "$t0" "$t1"

# ---------------------------------------------------------------- counts
individuals=${BENCH_IMAGING_INDIVIDUALS:-400000}
"$imaging_bench" --individuals "$individuals" | tee "$work/counts.log"
awk '$1=="RESULT" {print "RESULT imaging", $2, $3}' "$work/counts.log" >>"$results"
[ -n "${BENCH_KEEP_IMAGING:-}" ] || rm -rf "$work" "$site"
