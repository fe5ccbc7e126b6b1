#!/usr/bin/env bash
# What the audit trail costs over HTTP (issue 5: the audited throughput stays >= 80% of the
# unaudited), side by side in one run. Called by bench/run.sh (--only-audit, or as part of the
# full run):
#   bench/audit_http.sh RESULTS_FILE TMP_DIR BUILD_DIR [INDIVIDUALS] [WRK_SECONDS] [ROUNDS]
# One node of INDIVIDUALS synthetic individuals (default 200000) is served three ways, one after
# the other, ROUNDS times over (default 3, interleaved, so a change in the machine's load hits
# every mode alike):
#   unaudited  `node serve --unaudited-benchmark-only` (no audit entries: the baseline);
#   written    node.yaml audit.durability: written (the default: an answer waits for its
#              entry's write(), the fdatasync follows);
#   sync       audit.durability: sync (an answer waits for its entry's fdatasync).
# Each time wrk POSTs the dense count query (bench/bench_queries.h, as an anonymous caller:
# the node plans and counts it and answers a boolean) to /api/individuals at 8 and 64
# connections (-t2, keep-alive) for WRK_SECONDS (default 10). The medians over the rounds and
# their ratios to the unaudited median are printed and appended to RESULTS_FILE as RESULT lines.
# The audit log is emptied before each audited run (a benchmark node's log, nobody's record);
# the last one is checked with `oncomesh audit verify`.
set -euo pipefail
results=$1 tmp=$2 build=$3 individuals=${4:-200000} wrk_seconds=${5:-10} rounds=${6:-3}
oncomesh=$build/oncomesh
work=$tmp/audit
rm -rf "$work" && mkdir -p "$work"
node=$work/node

"$oncomesh" synth --site bench --individuals "$individuals" --seed 1 --out "$work/fhir" >/dev/null
"$oncomesh" node init --dir "$node" --name bench --port 0 >/dev/null
"$oncomesh" ingest fhir --dir "$node" "$work/fhir" >/dev/null
rm -rf "$work/fhir"
# The dense query of bench/bench_queries.h (the three most frequent ICD-10 categories of the
# synthetic site are C50, C61, C34).
body='{"meta":{"apiVersion":"v2.0"},"query":{"filters":[{"anyOf":[{"id":"ICD10:C50"},{"id":"ICD10:C61"},{"id":"ICD10:C34"}]},{"id":"age","operator":">=","value":"P50Y"},{"id":"NCIT:C48699"},{"id":"NCIT:C37987"},{"id":"NCIT:C15329"}],"requestedGranularity":"count"}}'
{
  echo 'wrk.method = "POST"'
  echo 'wrk.headers["Content-Type"] = "application/json"'
  printf 'wrk.body = [==[%s]==]\n' "$body"
} >"$work/post.lua"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
to_ms() {  # wrk latency "512.00us" / "1.23ms" / "1.02s" -> ms
  awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); printf "%.3f", v/1000}
    else if (v ~ /ms$/) {sub(/ms$/,"",v); printf "%.3f", v}
    else if (v ~ /s$/) {sub(/s$/,"",v); printf "%.3f", v*1000} else print "nan" }'
}
set_durability() { sed -i "s/^  durability: .*/  durability: $1/" "$node/node.yaml"; }

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=
}
trap stop_server EXIT

raw=$work/raw.txt
: >"$raw"
modes="unaudited written sync"
printf '%-6s %-10s %-12s %10s %9s %9s %8s  %s\n' round mode connections "req/s" "p50 ms" "p99 ms" non-2xx load
for round in $(seq "$rounds"); do
  for mode in $modes; do
    flags=()
    if [ "$mode" = unaudited ]; then
      flags+=(--unaudited-benchmark-only)
    else
      set_durability "$mode"
      rm -rf "$node/audit"
    fi
    port=$(free_port)
    "$oncomesh" node serve --dir "$node" --address 127.0.0.1 --port "$port" --threads 2 "${flags[@]}" \
      >"$work/serve-$mode.log" 2>&1 &
    server_pid=$!
    url=http://127.0.0.1:$port
    for _ in $(seq 600); do
      curl -sf "$url/api/info" >/dev/null 2>&1 && break
      kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve-$mode.log"; exit 1; }
      sleep 0.2
    done
    for conns in 8 64; do
      out=$(wrk -t2 -c"$conns" -d"${wrk_seconds}s" --latency -s "$work/post.lua" "$url/api/individuals" 2>&1)
      rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
      p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
      p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
      non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' <<<"$out"); non2xx=${non2xx:-0}
      load=$(cut -d' ' -f1 /proc/loadavg)
      printf '%-6s %-10s %-12s %10s %9s %9s %8s  %s\n' "$round" "$mode" "$conns" "$rps" "$p50" "$p99" "$non2xx" "$load"
      echo "$mode $conns $rps $p50 $p99 $non2xx" >>"$raw"
    done
    stop_server
  done
done
set_durability written

# The last audited run's log must verify, and hold about as many entries as requests answered.
verify=$("$oncomesh" audit verify --dir "$node" 2>&1) || { echo "$verify"; echo "audit_http.sh: the log does not verify" >&2; exit 1; }
echo "audit verify (last run, sync): $(head -1 <<<"$verify")"
entries=$(cat "$node"/audit/audit-*.jsonl | wc -l)
bytes=$(cat "$node"/audit/audit-*.jsonl | wc -c)
echo "audit log of the last run: $entries entries, $((bytes / (entries > 0 ? entries : 1))) bytes per entry"
echo "RESULT audit bytes_per_entry $((bytes / (entries > 0 ? entries : 1)))" >>"$results"

median() { sort -n | awk '{v[NR]=$1} END{ if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
echo
echo "medians over $rounds rounds ($individuals individuals, wrk -t2, ${wrk_seconds} s a run):"
printf '%-10s %-12s %10s %9s %9s %10s\n' mode connections "req/s" "p50 ms" "p99 ms" "/unaudited"
for conns in 8 64; do
  base=$(awk -v c="$conns" '$1=="unaudited" && $2==c {print $3}' "$raw" | median)
  for mode in $modes; do
    rps=$(awk -v m="$mode" -v c="$conns" '$1==m && $2==c {print $3}' "$raw" | median)
    p50=$(awk -v m="$mode" -v c="$conns" '$1==m && $2==c {print $4}' "$raw" | median)
    p99=$(awk -v m="$mode" -v c="$conns" '$1==m && $2==c {print $5}' "$raw" | median)
    ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan"}')
    printf '%-10s %-12s %10s %9s %9s %10s\n' "$mode" "$conns" "$rps" "$p50" "$p99" "$ratio"
    printf 'RESULT audit %s_c%s_rps %s\nRESULT audit %s_c%s_p50_ms %s\nRESULT audit %s_c%s_p99_ms %s\nRESULT audit %s_c%s_ratio %s\n' \
      "$mode" "$conns" "$rps" "$mode" "$conns" "$p50" "$mode" "$conns" "$p99" "$mode" "$conns" "$ratio" >>"$results"
  done
done
non2xx=$(awk '{s+=$6} END{print s+0}' "$raw")
echo "RESULT audit non2xx $non2xx" >>"$results"
echo "RESULT audit individuals $individuals" >>"$results"
