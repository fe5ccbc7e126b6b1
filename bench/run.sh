#!/usr/bin/env bash
# The benchmark: one command, one summary (docs/benchmarks.md explains every figure).
#
#   bench/run.sh            # 1M and 10M individuals in-process, HTTP at 1M (about 25 minutes)
#   bench/run.sh --quick    # 200k individuals everywhere, short wrk runs (a few minutes)
#   bench/run.sh --smoke    # every part at a toy size (about a minute): the test suite runs it so
#                           # the script cannot rot; its figures mean nothing
#
# Options (or environment variables):
#   --sizes LIST              BENCH_SIZES, default 1M,10M: in-process comparison sizes
#   --http-individuals N      BENCH_HTTP_INDIVIDUALS, default 1000000: node size for HTTP
#   --wrk-seconds S           BENCH_WRK_SECONDS, default 10: duration of each wrk run
#   --no-pg / --no-sqlite / --no-http / --no-genomics    skip a part
#   --only-genomics           only the genomic benchmarks
#   --genome-sizes LIST       BENCH_GENOME_SIZES, default 200000x100,1000000x200: sites x samples
#   --no-imaging / --only-imaging   the DICOM part (bench/imaging.sh: node vs Orthanc, counts);
#                             BENCH_IMAGING_STUDIES (default 120), BENCH_IMAGING_INDIVIDUALS
#                             (default 400000: some 118,000 imaging studies for the counts)
#   --no-auth / --only-auth   the passport part (bench/passport_bench: a count query with a cached
#                             passport vs anonymous, first-time verification); BENCH_AUTH_INDIVIDUALS
#                             (default 10000) individuals in its in-process node
#   --no-audit / --only-audit the audit trail's cost over HTTP (bench/audit_http.sh: the same
#                             node unaudited, audit.durability written and sync, interleaved);
#                             BENCH_AUDIT_INDIVIDUALS (default 200000), BENCH_AUDIT_ROUNDS
#                             (default 3); wrk runs of --wrk-seconds
#   --build-dir DIR           BENCH_BUILD_DIR, default build/ in the repository
#   --no-build                use the binaries in the build directory as they are (no install-deps,
#                             no configure, no build): how the test suite runs --smoke
#   --keep                    keep the temporary directory (node, FHIR, databases)
#
# Installs packages only through scripts/install-deps.sh. Starts PostgreSQL 15 (initdb into a
# temporary directory, loopback only) and an `oncomesh node serve`; stops both and removes
# the temporary directory on exit, whatever happens.
set -eEuo pipefail
# Every failing step says so: a bare `set -e` exits silently (a grep that finds nothing in a
# command substitution ended the whole run with no message once).
trap 'echo "run.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=${BENCH_SIZES:-1M,10M}
http_n=${BENCH_HTTP_INDIVIDUALS:-1000000}
wrk_seconds=${BENCH_WRK_SECONDS:-10}
build=${BENCH_BUILD_DIR:-$root/build}
do_pg=1 do_sqlite=1 do_http=1 do_cohort=1 do_genomics=1 do_imaging=1 do_auth=1 do_audit=1 keep=0 mode=full build_first=1
audit_n=${BENCH_AUDIT_INDIVIDUALS:-200000}
audit_rounds=${BENCH_AUDIT_ROUNDS:-3}
imaging_studies=${BENCH_IMAGING_STUDIES:-120}
genome_sizes=${BENCH_GENOME_SIZES:-200000x100,1000000x200}
while (($#)); do
  case "$1" in
    --smoke) sizes=2k http_n=2000 wrk_seconds=1 genome_sizes=2000x20 imaging_studies=4 audit_rounds=1
             audit_n=2000 mode=smoke
             export BENCH_AUTH_INDIVIDUALS=${BENCH_AUTH_INDIVIDUALS:-500} BENCH_IMAGING_INDIVIDUALS=${BENCH_IMAGING_INDIVIDUALS:-2000}
             export BENCH_COMBINED_INDIVIDUALS=${BENCH_COMBINED_INDIVIDUALS:-2000} ;;
    --no-build) build_first=0 ;;
    --quick) sizes=200k http_n=200000 wrk_seconds=3 genome_sizes=20000x50 imaging_studies=20 audit_rounds=2 mode=quick ;;
    --genome-sizes) genome_sizes=$2; shift ;;
    --no-genomics) do_genomics=0 ;;
    --only-genomics) do_pg=0 do_sqlite=0 do_http=0 do_cohort=0 do_imaging=0 do_auth=0 do_audit=0 ;;
    --no-imaging) do_imaging=0 ;;
    --only-imaging) do_pg=0 do_sqlite=0 do_http=0 do_cohort=0 do_genomics=0 do_auth=0 do_audit=0 ;;
    --no-auth) do_auth=0 ;;
    --only-auth) do_pg=0 do_sqlite=0 do_http=0 do_cohort=0 do_genomics=0 do_imaging=0 do_audit=0 ;;
    --no-audit) do_audit=0 ;;
    --only-audit) do_pg=0 do_sqlite=0 do_http=0 do_cohort=0 do_genomics=0 do_imaging=0 do_auth=0 ;;
    --sizes) sizes=$2; shift ;;
    --http-individuals) http_n=$2; shift ;;
    --wrk-seconds) wrk_seconds=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --no-pg) do_pg=0 ;;
    --no-sqlite) do_sqlite=0 ;;
    --no-http) do_http=0 ;;
    --keep) keep=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\n### %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

# ---------------------------------------------------------------- build
if ((build_first)); then
  log "dependencies (scripts/install-deps.sh) and Release build in $build"
  "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target oncomesh cohort_bench genomics_bench imaging_bench passport_bench \
    bench_broker
fi
for b in oncomesh bench/cohort_bench bench/genomics_bench bench/imaging_bench bench/passport_bench \
  bench/bench_broker; do
  [ -x "$build/$b" ] || { echo "run.sh: $build/$b is missing (build it, or drop --no-build)" >&2; exit 1; }
done
oncomesh=$build/oncomesh
cohort_bench=$build/bench/cohort_bench
genomics_bench=$build/bench/genomics_bench

# ---------------------------------------------------------------- temp dir and cleanup
tmp=$(mktemp -d /tmp/oncomesh-bench.XXXXXX)
chmod 755 "$tmp"
results=$tmp/results.txt
: >"$results"
pg_bin=/usr/lib/postgresql/15/bin
pg_data=$tmp/pg
pg_started=0
server_pid=
as_pg() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((pg_started)); then as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true; fi
  if ((keep)); then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "run.sh: no free port" >&2; exit 1
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cores=$(nproc)
mem_gb=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- PostgreSQL 15
pg_conn=
if ((do_pg)); then
  log "PostgreSQL 15: initdb into $pg_data, loopback only"
  mkdir -p "$pg_data"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pg_data"
  as_pg "$pg_bin/initdb" -D "$pg_data" -U bench --auth=trust -E UTF8 --no-locale >/dev/null
  pg_port=$(free_port)
  # Memory sized so the table and its indexes stay cached; durability off only to load faster
  # (it does not change how a read-only count runs). JIT off: see docs/benchmarks.md.
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_data \
     -c shared_buffers=2GB -c work_mem=256MB -c effective_cache_size=8GB -c jit=${BENCH_PG_JIT:-off} \
     -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB" >/dev/null
  pg_started=1
  pg_conn="host=127.0.0.1 port=$pg_port user=bench dbname=postgres"
fi

# ---------------------------------------------------------------- in-process comparison
bench_rc=0
if ((do_cohort)); then
  log "in-process count latency: index vs SQLite vs PostgreSQL at $sizes individuals"
  bench_args=(--sizes "$sizes" --workdir "$tmp/cohort" --results "$results")
  [ -n "$pg_conn" ] && bench_args+=(--pg "$pg_conn")
  ((do_sqlite)) || bench_args+=(--no-sqlite)
  [ "$mode" != full ] && bench_args+=(--sqlite-reps 3 --pg-reps 5)
  set +e
  "$cohort_bench" "${bench_args[@]}"
  bench_rc=$?
  set -e
fi
if ((pg_started)); then
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
  pg_started=0
fi

# ---------------------------------------------------------------- HTTP
wrk_table=
if ((do_http)); then
  log "HTTP: a real node of $http_n individuals (synth, node init, ingest fhir, node serve)"
  t0=$(now)
  "$oncomesh" synth --site bench --individuals "$http_n" --seed 1 --out "$tmp/fhir"
  t1=$(now)
  "$oncomesh" node init --dir "$tmp/node" --name bench --port 0 >/dev/null
  "$oncomesh" ingest fhir --dir "$tmp/node" "$tmp/fhir"
  t2=$(now)
  # Anonymous callers get a boolean: the benchmark asks as a registered researcher, whose
  # passport (verified once, then cached by the node) every request carries.
  passport=$("$build/bench/bench_broker" "$tmp/node")
  synth_s=$(elapsed "$t0" "$t1"); ingest_s=$(elapsed "$t1" "$t2"); total_s=$(elapsed "$t0" "$t2")
  echo "synth ${synth_s} s, ingest ${ingest_s} s, together ${total_s} s"
  printf 'RESULT http synth_s %s\nRESULT http ingest_s %s\nRESULT http synth_ingest_s %s\n' \
    "$synth_s" "$ingest_s" "$total_s" >>"$results"
  du -sh "$tmp/fhir" "$tmp/node" | sed 's/^/  /'
  rm -rf "$tmp/fhir"

  port=$(free_port)
  t0=$(now)
  "$oncomesh" node serve --dir "$tmp/node" --address 127.0.0.1 --port "$port" --threads 2 \
    >"$tmp/serve.log" 2>&1 &
  server_pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 1200); do
    curl -sf "$url/api/info" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/serve.log"; exit 1; }
    sleep 0.25
  done
  echo "node serve ready after $(elapsed "$t0" "$(now)") s (opens the store, builds the index)"
  body_file=$tmp/cohort/dense.json
  [ -s "$body_file" ] || { echo "run.sh: $body_file is missing (the in-process part writes it)" >&2; exit 1; }
  response=$(curl -sS -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $passport" \
    --data-binary @"$body_file" "$url/api/individuals")
  http_count=$(printf '%s' "$response" | grep -o '"numTotalResults":[0-9]*' | head -1 | cut -d: -f2 || true)
  if [ -z "$http_count" ]; then
    echo "run.sh: the dense count over HTTP has no numTotalResults; the node answered:" >&2
    printf '%s\n' "$response" | head -c 2000 >&2
    exit 1
  fi
  echo "dense count over HTTP, as a registered researcher: $http_count (rounded up to the node's count step)"
  echo "RESULT http dense_count_rounded $http_count" >>"$results"
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$passport"
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$body_file")"
  } >"$tmp/post.lua"

  to_ms() {  # wrk latency "512.00us" / "1.23ms" / "1.02s" -> ms
    awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); printf "%.3f", v/1000}
      else if (v ~ /ms$/) {sub(/ms$/,"",v); printf "%.3f", v}
      else if (v ~ /s$/) {sub(/s$/,"",v); printf "%.3f", v*1000} else print "nan" }'
  }
  log "wrk: POST /api/individuals (dense count), ${wrk_seconds} s per run; wrk shares the 2 cores"
  for threads in 2 8; do
    for conns in 8 64 256; do
      t=$threads; ((t <= conns)) || t=$conns
      out=$(wrk -t"$t" -c"$conns" -d"${wrk_seconds}s" --latency -s "$tmp/post.lua" \
        "$url/api/individuals" 2>&1)
      rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
      p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
      p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
      non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' <<<"$out"); non2xx=${non2xx:-0}
      errors=$(awk '/Socket errors/ {sub(/.*Socket errors: /,""); print}' <<<"$out"); errors=${errors:-none}
      load=$(cut -d' ' -f1 /proc/loadavg)
      line=$(printf '%-11s %-12s %10s %9s %9s %8s  %-34s %s' "-t$t" "$conns" "$rps" "$p50" "$p99" \
        "$non2xx" "$errors" "$load")
      echo "$line"
      wrk_table+="$line"$'\n'
      printf 'RESULT http t%s_c%s_rps %s\nRESULT http t%s_c%s_p50_ms %s\nRESULT http t%s_c%s_p99_ms %s\nRESULT http t%s_c%s_non2xx %s\n' \
        "$threads" "$conns" "$rps" "$threads" "$conns" "$p50" "$threads" "$conns" "$p99" \
        "$threads" "$conns" "$non2xx" >>"$results"
    done
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
fi
# ---------------------------------------------------------------- genomics
genome_runs=
if ((do_genomics)); then
  first=1
  for size in ${genome_sizes//,/ }; do
    sites=${size%x*} samples=${size#*x}
    g=$tmp/genomics-$size
    log "genomics: $sites sites x $samples samples (synth genomes, ingest vcf vs htslib and bcftools, queries vs htslib and tabix)"
    "$oncomesh" synth --site gbench --individuals "$samples" --seed 1 --genomes "$samples" \
      --genome-sites "$sites" --out "$g/fhir" >/dev/null
    vcf=$g/fhir/genomes.vcf.gz bcf=$g/genomes.bcf
    bcftools view --no-version -Ob -o "$bcf" "$vcf"
    bcftools index "$bcf"
    records=$(bcftools index -n "$vcf")
    echo "$(du -h "$vcf" | cut -f1) VCF.gz, $(du -h "$bcf" | cut -f1) BCF, $records records"
    for format in vcf bcf; do
      node=$g/node-$format
      "$oncomesh" node init --dir "$node" --name "gbench-$format" --port 0 >/dev/null
      "$oncomesh" ingest fhir --dir "$node" "$g/fhir" >/dev/null
      file=$vcf; [ "$format" = bcf ] && file=$bcf
      t0=$(now)
      "$oncomesh" ingest vcf --dir "$node" "$file" >"$g/ingest-$format.log"
      t1=$(now)
      # Two rates: the ingest's own (it reports "N records in S s": opening the file to
      # committing, as htslib's decode below is timed inside its process) and the whole
      # process's wall time (also process start, node and store opening).
      inproc=$(grep -o 'records in [0-9.e+-]* s' "$g/ingest-$format.log" | awk '{print $3}')
      rate=$(awk -v n="$records" -v s="$inproc" 'BEGIN{printf "%.0f", n/s}')
      wall_rate=$(awk -v n="$records" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')
      echo "ingest vcf ($format): $inproc s in the ingest, $rate records/s; process wall $(elapsed "$t0" "$t1") s, $wall_rate records/s"
      echo "RESULT g$size ingest_${format}_per_s $rate" >>"$results"
      echo "RESULT g$size ingest_${format}_wall_per_s $wall_rate" >>"$results"
      t0=$(now)
      bcftools view -Ou -o /dev/null "$file"
      t1=$(now)
      rate=$(awk -v n="$records" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')
      echo "bcftools view -Ou -o /dev/null ($format): $(elapsed "$t0" "$t1") s, $rate records/s"
      echo "RESULT g$size bcftools_${format}_per_s $rate" >>"$results"
    done
    individuals=0
    ((first)) && individuals=${BENCH_COMBINED_INDIVIDUALS:-$([ "$mode" = quick ] && echo 200000 || echo 1000000)}
    "$genomics_bench" --vcf "$vcf" --bcf "$bcf" --node "$g/node-vcf" --individuals "$individuals" \
      | tee "$g/bench.log"
    awk -v n="g$size" '$1=="RESULT" {print "RESULT", n, $2, $3}' "$g/bench.log" >>"$results"
    ((first)) && echo "RESULT combined individuals $individuals" >>"$results"
    ((first)) && awk '$1=="RESULT" && $2=="combined_count_p50_ms" {print "RESULT combined p50_ms", $3}' \
      "$g/bench.log" >>"$results"
    genome_runs="$genome_runs $size"
    first=0
    ((keep)) || rm -rf "$g"
  done
fi

# ---------------------------------------------------------------- imaging
if ((do_imaging)); then
  log "imaging: $imaging_studies synthetic studies, the node's DICOM ingest and C-STORE receiver vs Orthanc; filter counts"
  [ "$mode" = quick ] && export BENCH_IMAGING_INDIVIDUALS=${BENCH_IMAGING_INDIVIDUALS:-100000}
  bash "$root/bench/imaging.sh" "$results" "$tmp" "$build" "$imaging_studies"
fi

# ---------------------------------------------------------------- passports
if ((do_auth)); then
  log "passports: a count query with a cached passport vs anonymous, first-time verification (in-process)"
  BENCH_AUTH_INDIVIDUALS=${BENCH_AUTH_INDIVIDUALS:-10000} "$build/bench/passport_bench" | tee "$tmp/auth.log"
  awk '$1=="RESULT" && $2=="auth"' "$tmp/auth.log" >>"$results"
fi

# ---------------------------------------------------------------- audit
if ((do_audit)); then
  log "audit: what the audit trail costs over HTTP, $audit_n individuals, unaudited vs audit.durability written vs sync, $audit_rounds rounds"
  bash "$root/bench/audit_http.sh" "$results" "$tmp" "$build" "$audit_n" "$wrk_seconds" "$audit_rounds"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- summary
get() { awk -v n="$1" -v k="$2" '$1=="RESULT" && $2==n && $3==k {v=$4} END{print (v=="" ? "nan" : v)}' "$results"; }
fmt() { awk -v v="$1" 'BEGIN{ if (v=="nan" || v=="") print "n/a"; else if (v<0.01) printf "%.4f", v; else if (v<1) printf "%.3f", v;
  else if (v<100) printf "%.1f", v; else printf "%.0f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="nan" || b=="nan" || b<=0) print "n/a"; else printf "%.0fx", a/b }'; }
verdict() {  # verdict VALUE OP LIMIT
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN{ if (v=="nan" || v=="") {print "n/a "; exit}
    ok = (op=="<=") ? v<=l : v>=l; print ok ? "PASS" : "MISS" }'
}
ns=$(awk '$1=="RESULT" && $3=="dense_count" {print $2}' "$results")
largest=$(tr ' ' '\n' <<<"$ns" | sort -n | tail -1)

echo
echo "=========================== OncoMesh benchmark summary ($mode) ==========================="
echo "machine: $cores cores, ${mem_gb} GB RAM, $(uname -r); load average before $load_before, after $load_after"
echo "commit $commit; build Release; synthetic site 'bench', seed 1"
echo "NB: everything (index, SQLite, PostgreSQL, the node and wrk) shares these $cores cores."
echo
if ((do_cohort)); then
echo "In-process count latency, ms (p50 / p99). Index = CohortIndex::Count(plan) with the plan from"
echo "query::BuildPlan; 'request' adds ParseBeaconPost + BuildPlan. SQL over one flat table with one"
echo "index per filter column (SQLite: file + ANALYZE; PostgreSQL 15: btree + VACUUM ANALYZE)."
printf '%-10s %-10s %9s %-17s %-17s %-17s %-17s %9s %9s\n' individuals query matches index request SQLite PostgreSQL PG/index SQLite/idx
for n in $ns; do
  for q in dense selective; do
    printf '%-10s %-10s %9s %-17s %-17s %-17s %-17s %9s %9s\n' "$n" "$q" "$(get "$n" ${q}_count | awk '{printf "%d", $1}')" \
      "$(fmt "$(get "$n" ${q}_index_p50_ms)") / $(fmt "$(get "$n" ${q}_index_p99_ms)")" \
      "$(fmt "$(get "$n" ${q}_request_p50_ms)") / $(fmt "$(get "$n" ${q}_request_p99_ms)")" \
      "$(fmt "$(get "$n" ${q}_sqlite_p50_ms)") / $(fmt "$(get "$n" ${q}_sqlite_p99_ms)")" \
      "$(fmt "$(get "$n" ${q}_pg_p50_ms)") / $(fmt "$(get "$n" ${q}_pg_p99_ms)")" \
      "$(ratio "$(get "$n" ${q}_pg_p50_ms)" "$(get "$n" ${q}_index_p50_ms)")" \
      "$(ratio "$(get "$n" ${q}_sqlite_p50_ms)" "$(get "$n" ${q}_index_p50_ms)")"
  done
  echo "           counts agree across systems: $([ "$(get "$n" counts_agree)" = 1 ] && echo yes || echo NO)"
done
echo
echo "Index size and build (IndexBuilder fed by synth::GenerateRecords):"
for n in $ns; do
  printf '  %-10s %s bytes/individual in stats().memory_bytes (+ %s bytes/individual id table);' \
    "$n" "$(fmt "$(get "$n" index_bytes_per_individual)")" "$(fmt "$(get "$n" id_table_bytes_per_individual)")"
  printf ' build %s s (Add* %s s + Finish %s s), generate+build %s s\n' \
    "$(fmt "$(get "$n" index_build_s)")" "$(fmt "$(get "$n" index_add_s)")" \
    "$(fmt "$(get "$n" index_finish_s)")" "$(fmt "$(get "$n" generate_and_add_s)")"
done
fi
if ((do_http)); then
  echo
  echo "HTTP: POST /api/individuals dense count, node serve --threads 2, $http_n individuals;"
  echo "wrk runs on the same $cores cores (it takes CPU from the server), keep-alive, ${wrk_seconds} s per run:"
  printf '%-11s %-12s %10s %9s %9s %8s  %-34s %s\n' "wrk" connections "req/s" "p50 ms" "p99 ms" non-2xx "socket errors" load
  printf '%s' "$wrk_table"
  best8=$(awk -v a="$(get http t2_c8_rps)" -v b="$(get http t8_c8_rps)" 'BEGIN{print (a>b?a:b)}')
  best256=$(awk -v a="$(get http t2_c256_rps)" -v b="$(get http t8_c256_rps)" 'BEGIN{print (a>b?a:b)}')
  peak=$(awk '$1=="RESULT" && $2=="http" && $3 ~ /_rps$/ && $4>m {m=$4} END{print m+0}' "$results")
  ratio8=$(awk -v a="$best256" -v b="$best8" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan"}')
  held=$(awk -v a="$best256" -v b="$peak" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan"}')
  echo "256 connections / 8 connections (best wrk setting of each): $ratio8; 256 connections / best run: $held"
  echo "synth $http_n: $(get http synth_s) s; ingest fhir: $(get http ingest_s) s; together $(get http synth_ingest_s) s"
fi

if ((do_genomics)); then
  echo
  echo "Genomics (synthetic genomes, GRCh38; records/s = VCF records; queries p50 / p99 ms):"
  printf '%-16s %-30s %12s %12s %12s %12s\n' size measure node htslib bcftools/tabix "node/htslib"
  for size in $genome_runs; do
    n=g$size
    for format in vcf bcf; do
      printf '%-16s %-30s %12s %12s %12s %12s\n' "$size" "ingest $format (records/s)" \
        "$(fmt "$(get $n ingest_${format}_per_s)")" "$(fmt "$(get $n htslib_decode_${format}_per_s)")" \
        "$(fmt "$(get $n bcftools_${format}_per_s)")" \
        "$(awk -v a="$(get $n ingest_${format}_per_s)" -v b="$(get $n htslib_decode_${format}_per_s)" \
           'BEGIN{ if (b>0 && a!="nan") printf "%.0f%%", 100*a/b; else print "n/a"}')"
      printf '%-16s %-30s %12s %12s %12s %12s\n' "$size" "  same, process wall" \
        "$(fmt "$(get $n ingest_${format}_wall_per_s)")" "" "" \
        "$(awk -v a="$(get $n ingest_${format}_wall_per_s)" -v b="$(get $n htslib_decode_${format}_per_s)" \
           'BEGIN{ if (b>0 && a!="nan") printf "%.0f%%", 100*a/b; else print "n/a"}')"
    done
    for q in position window10k; do
      printf '%-16s %-30s %12s %12s %12s %12s\n' "$size" "$q query p50 ms (BCF/VCF)" \
        "$(fmt "$(get $n ${q}_index_p50_ms)")" \
        "$(fmt "$(get $n ${q}_htslib_bcf_p50_ms)")/$(fmt "$(get $n ${q}_htslib_vcf_p50_ms)")" \
        "$(fmt "$(get $n ${q}_tabix_p50_ms)")" "$(ratio "$(get $n ${q}_htslib_bcf_p50_ms)" "$(get $n ${q}_index_p50_ms)")"
    done
  done
  echo "combined genomic+clinical count at $(get combined individuals) individuals: p50 $(fmt "$(get combined p50_ms)") ms"
fi

echo
if ((do_cohort || do_http)); then
  echo "Targets (evaluated at the largest in-process size, $largest, and the HTTP node of $http_n):"
else
  echo "Targets:"
fi
target() { printf '  [%s] %-62s %s\n' "$1" "$2" "$3"; }
if ((do_cohort)); then
for q in dense selective; do
  v=$(get "$largest" ${q}_index_p50_ms)
  target "$(verdict "$v" '<=' 0.3)" "in-process count p50 <= 0.3 ms, $q" "$(fmt "$v") ms"
done
for q in dense selective; do
  r=$(awk -v a="$(get "$largest" ${q}_pg_p50_ms)" -v b="$(get "$largest" ${q}_index_p50_ms)" \
    'BEGIN{ if (a=="nan" || b=="nan" || b<=0) print "nan"; else printf "%.1f", a/b }')
  target "$(verdict "$r" '>=' 500)" ">= 500x faster than PostgreSQL, $q" "${r}x"
done
v=$(get "$largest" index_bytes_per_individual)
target "$(verdict "$v" '<=' 32)" "index memory <= 32 bytes per individual (stats().memory_bytes)" \
  "$(fmt "$v") B (+ $(fmt "$(get "$largest" id_table_bytes_per_individual)") B id table, not counted)"
fi
if ((do_http)); then
  target "$(verdict "$peak" '>=' 10000)" ">= 10,000 count requests/s over HTTP (best run)" "$(fmt "$peak") req/s"
  target "$(verdict "$held" '>=' 0.8)" "256 connections hold >= 80% of the best throughput" "$held (256/8: $ratio8)"
  target "$(verdict "$(get http synth_ingest_s)" '<=' 180)" "synth + ingest of $http_n individuals < 3 minutes" \
    "$(get http synth_ingest_s) s"
fi
if ((do_genomics)); then
  for size in $genome_runs; do
    n=g$size
    for format in vcf bcf; do
      r=$(awk -v a="$(get $n ingest_${format}_per_s)" -v b="$(get $n htslib_decode_${format}_per_s)" \
        'BEGIN{ if (b>0 && a!="nan") printf "%.2f", a/b; else print "nan"}')
      w=$(awk -v a="$(get $n ingest_${format}_wall_per_s)" -v b="$(get $n htslib_decode_${format}_per_s)" \
        'BEGIN{ if (b>0 && a!="nan") printf "%.2f", a/b; else print "nan"}')
      target "$(verdict "$r" '>=' 0.6)" "ingest $format >= 60% of htslib's decode rate ($size)" "$r (process wall: $w)"
    done
    for q in position window10k; do
      v=$(get $n ${q}_index_p50_ms)
      target "$(verdict "$v" '<=' 0.05)" "$q query p50 <= 50 us ($size)" "$(fmt "$v") ms"
      r=$(awk -v a="$(get $n ${q}_htslib_bcf_p50_ms)" -v b="$v" 'BEGIN{ if (b>0 && a!="nan") printf "%.1f", a/b; else print "nan"}')
      target "$(verdict "$r" '>=' 10)" "$q query >= 10x htslib's in-process region read, BCF ($size)" "${r}x"
    done
  done
  v=$(get combined p50_ms)
  target "$(verdict "$v" '<=' 0.3)" "combined genomic+clinical count p50 <= 0.3 ms ($(get combined individuals))" "$(fmt "$v") ms"
fi
if ((do_imaging)); then
  echo
  echo "Imaging ($imaging_studies synthetic studies; instances/s, the node de-identifying):"
  for how in C-STORE_1_client C-STORE_4_clients; do
    n=$(get imaging "node_${how}_per_s") o=$(get imaging "orthanc_${how}_per_s")
    r=$(awk -v a="$n" -v b="$o" 'BEGIN{ if (b>0 && a!="nan") printf "%.2f", a/b; else print "nan"}')
    target "$(verdict "$r" '>=' 2)" "node ${how//_/ } >= 2x Orthanc's" "$n vs $o (${r}x)"
  done
  n=$(get imaging "node_ingest_dicom_(folder)_per_s")
  for how in REST_1_client REST_4_clients; do
    o=$(get imaging "orthanc_${how}_per_s")
    r=$(awk -v a="$n" -v b="$o" 'BEGIN{ if (b>0 && a!="nan") printf "%.2f", a/b; else print "nan"}')
    target "$(verdict "$r" '>=' 2)" "node ingest dicom (folder) >= 2x Orthanc ${how//_/ }" "$n vs $o (${r}x)"
  done
  for q in ct_chest_seg mg_breast_cancer_seg_women mr_stage_iv; do
    v=$(get imaging "${q}_p50_ms")
    target "$(verdict "$v" '<=' 0.3)" "imaging count $q p50 <= 0.3 ms ($(get imaging studies) studies)" "$(fmt "$v") ms"
  done
fi
if ((do_auth)); then
  echo
  echo "Passports (in-process, node of $(get auth individuals) individuals; p50 us):"
  echo "  count query anonymous $(fmt "$(get auth count_anonymous_p50_us)"), with a cached passport" \
    "$(fmt "$(get auth count_registered_cached_p50_us)"); first verification (3 visas) ES256" \
    "$(fmt "$(get auth verify_es256_p50_us)"), RS256 $(fmt "$(get auth verify_rs256_p50_us)")"
  v=$(get auth passport_added_p50_us)
  target "$(verdict "$v" '<=' 50)" "a cached passport adds <= 50 us p50 to a count query" "$(fmt "$v") us"
fi
if ((do_audit)); then
  echo
  echo "Audit trail over HTTP (POST /api/individuals dense count, $(get audit individuals) individuals; medians of $audit_rounds interleaved rounds):"
  printf '  %-10s %12s %12s %12s %12s\n' mode "8 conn req/s" "p50 ms" "64 conn req/s" "p50 ms"
  for m in unaudited written sync; do
    printf '  %-10s %12s %12s %12s %12s\n' "$m" "$(fmt "$(get audit ${m}_c8_rps)")" "$(get audit ${m}_c8_p50_ms)" \
      "$(fmt "$(get audit ${m}_c64_rps)")" "$(get audit ${m}_c64_p50_ms)"
  done
  echo "  audit entries: $(get audit bytes_per_entry) bytes each; non-2xx responses: $(get audit non2xx)"
  for c in 8 64; do
    target "$(verdict "$(get audit written_c${c}_ratio)" '>=' 0.8)" "audited (written, the default) >= 80% of unaudited, $c connections" \
      "$(get audit written_c${c}_ratio) (sync: $(get audit sync_c${c}_ratio))"
  done
fi
[ "$mode" = quick ] || [ "$mode" = smoke ] && echo "  ($mode mode: sizes are below the targets' 10M / 1M; run without --quick for the real figures)"
exit "$bench_rc"
