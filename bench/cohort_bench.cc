// Side-by-side count latency: the node's cohort index against SQLite and PostgreSQL 15 running
// the equivalent SQL over a flat per-individual table, on the same synthetic individuals.
//
// For every size N: generates the individuals (synth::GenerateRecords, the same individuals
// `oncomesh synth` writes for the site and seed), builds the CohortIndex with IndexBuilder and
// a fact table (one row per individual, one column per filter) written as CSV; loads the CSV
// into SQLite (a file in --workdir) and, with --pg, into PostgreSQL (COPY), with one index per
// filter column, then ANALYZE. Two Beacon queries (5 filters: one OR, one range, three terms)
// are planned with query::BuildPlan exactly as the node plans them, and written as SQL with the
// same meaning; all systems must return the same count before anything is timed.
//
// Prints a table per size, and machine-readable lines "RESULT <N> <key> <value>" (to stdout,
// or appended to --results FILE) that bench/run.sh collects into its summary. Exit status 1 if any
// count disagrees.
//
// Usage: cohort_bench --sizes 1000000,10000000 --workdir DIR [--pg CONNINFO] [--seed S]
//                     [--site NAME] [--index-reps R] [--sqlite-reps R] [--pg-reps R]
//                     [--no-sqlite] [--results FILE]
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_queries.h"
#include "bench_timing.h"
#include "index/cohort_index.h"
#include "index/vocabulary.h"
#include "model/date.h"
#include "model/model.h"
#include "query/beacon_request.h"
#include "synth/synth.h"

namespace {

using namespace oncomesh;
using bench::Clock;
using bench::Seconds;
using nlohmann::json;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "cohort_bench: " << message << "\n";
  std::exit(2);
}

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// ------------------------------------------------------------------ the flat fact table
// One row per individual, the columns the two queries filter on, each with the meaning the
// index gives the corresponding Beacon filter (cohort_index.cc, data/vocab/*.tsv).
struct Fact {
  bool female = false;          // Patient.gender                       NCIT:C16576 / C20197
  bool alive = false;           // vital-status Observation = Alive       NCIT:C37987
  char icd10_category[4] = {};  // first primary diagnosis, 3 characters  ICD10:Cnn (+descendants)
  int16_t age = -1;             // whole years at first primary diagnosis  age (ageAtDiagnosis)
  int8_t stage = 0;             // AJCC main stage group 1..4 (0: none)   NCIT:C27966.. (+desc.)
  int8_t m_category = -1;       // 0: M0, 1: M1 (-1: none)                NCIT:C48699 / C48700
  bool antineoplastic = false;  // any ATC L01 medication                 ATC:L01 (+descendants)
  bool surgery = false;         // any surgical Procedure                 NCIT:C15329
  model::Date first_diagnosis = model::kNoDate;
  model::Date birth = model::kNoDate;
};

const char* const kRoman[] = {"", "I", "II", "III", "IV"};

void AddToFacts(const model::RecordBatch& b, uint32_t first_row, std::vector<Fact>& facts) {
  std::unordered_map<std::string, uint32_t> row_of;
  row_of.reserve(b.individuals.size() * 2);
  for (size_t i = 0; i < b.individuals.size(); ++i) {
    const model::Individual& ind = b.individuals[i];
    const uint32_t row = first_row + static_cast<uint32_t>(i);
    row_of[ind.id] = row;
    facts[row].female = ind.sex == model::Sex::kFemale;
    facts[row].birth = ind.birth_date;
  }
  for (const model::Diagnosis& d : b.diagnoses) {
    Fact& f = facts[row_of.at(d.individual_id)];
    if (!d.primary || d.onset_date == model::kNoDate) continue;
    if (f.first_diagnosis == model::kNoDate || d.onset_date < f.first_diagnosis) {
      f.first_diagnosis = d.onset_date;
      std::snprintf(f.icd10_category, sizeof f.icd10_category, "%.3s", d.code.code.c_str());
    }
  }
  for (const model::Observation& o : b.observations) {
    Fact& f = facts[row_of.at(o.individual_id)];
    const std::string& code = o.code.code;
    const std::string& value = o.value_code.code;
    if (code == "75186-7") f.alive = value == "C37987";
    if ((code == "21908-9" || code == "21902-2") && !value.empty() && value[0] >= '0' &&
        value[0] <= '4') {
      f.stage = static_cast<int8_t>(value[0] - '0');
    }
    if ((code == "21907-1" || code == "21901-4") && value.size() == 3) {
      f.m_category = static_cast<int8_t>(value[2] - '0');
    }
  }
  for (const model::Treatment& t : b.treatments) {
    Fact& f = facts[row_of.at(t.individual_id)];
    if (t.kind == model::TreatmentKind::kMedication && t.code.code.rfind("L01", 0) == 0) {
      f.antineoplastic = true;
    }
    if (t.kind == model::TreatmentKind::kSurgery) f.surgery = true;
  }
}

const char* kColumns[] = {"sex",         "vital_status", "icd10_category", "age_at_diagnosis",
                          "stage_group", "m_category",   "antineoplastic", "surgery"};

void WriteCsv(const std::vector<Fact>& facts, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) Die("cannot write " + path);
  std::fputs(
      "row_id,sex,vital_status,icd10_category,age_at_diagnosis,stage_group,m_category,"
      "antineoplastic,surgery\n",
      f);
  for (size_t row = 0; row < facts.size(); ++row) {
    const Fact& x = facts[row];
    std::fprintf(f, "%zu,%s,%s,%s,", row, x.female ? "female" : "male",
                 x.alive ? "alive" : "deceased", x.icd10_category);
    if (x.age >= 0) std::fprintf(f, "%d", x.age);
    std::fprintf(f, ",%s,", kRoman[x.stage]);
    if (x.m_category >= 0) std::fprintf(f, "M%d", x.m_category);
    std::fprintf(f, ",%d,%d\n", x.antineoplastic ? 1 : 0, x.surgery ? 1 : 0);
  }
  if (std::fclose(f) != 0) Die("write failed: " + path);
}

// ------------------------------------------------------------------ timing (bench_timing.h)
using bench::Summarize;
using bench::TimeRuns;
using bench::Timing;

// ------------------------------------------------------------------ SQLite
class Sqlite {
 public:
  explicit Sqlite(const std::string& path) {
    std::filesystem::remove(path);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("sqlite: cannot open " + path);
  }
  ~Sqlite() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string message = err ? err : "?";
      sqlite3_free(err);
      Die("sqlite: " + message + " in: " + sql);
    }
  }
  int64_t Count(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      Die(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    int64_t n = -1;
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }
  std::string Plan(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr) !=
        SQLITE_OK) {
      return "?";
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (!out.empty()) out += "; ";
      out += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    }
    sqlite3_finalize(s);
    return out;
  }
  void LoadCsv(const std::string& csv) {
    Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;");
    Exec(
        "CREATE TABLE individuals (row_id INTEGER PRIMARY KEY, sex TEXT, vital_status TEXT, "
        "icd10_category TEXT, age_at_diagnosis INTEGER, stage_group TEXT, m_category TEXT, "
        "antineoplastic INTEGER, surgery INTEGER)");
    Exec("BEGIN");
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO individuals VALUES (?,?,?,?,?,?,?,?,?)", -1, &s, nullptr);
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    std::vector<std::string> fields;
    while (std::getline(in, line)) {
      fields.clear();
      size_t start = 0;
      for (;;) {
        const size_t comma = line.find(',', start);
        fields.push_back(line.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      for (int i = 0; i < 9; ++i) {
        const std::string& v = fields[static_cast<size_t>(i)];
        if (v.empty()) {
          sqlite3_bind_null(s, i + 1);
        } else if (i == 0 || i == 4 || i >= 7) {
          sqlite3_bind_int64(s, i + 1, std::stoll(v));
        } else {
          sqlite3_bind_text(s, i + 1, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        }
      }
      if (sqlite3_step(s) != SQLITE_DONE) Die(std::string("sqlite insert: ") + sqlite3_errmsg(db_));
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    Exec("COMMIT");
    for (const char* c : kColumns) {
      Exec(std::string("CREATE INDEX individuals_") + c + " ON individuals(" + c + ")");
    }
    Exec("ANALYZE");
    // A page cache and memory map big enough for the whole file, so SQLite is not measured
    // reading through a 2 MB cache.
    Exec("PRAGMA cache_size=-2000000; PRAGMA mmap_size=4000000000;");
  }

 private:
  sqlite3* db_ = nullptr;
};

// ------------------------------------------------------------------ PostgreSQL
class Postgres {
 public:
  explicit Postgres(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(conn_));
  }
  ~Postgres() { PQfinish(conn_); }
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string message = PQresultErrorMessage(r);
      PQclear(r);
      Die("postgres: " + message + " in: " + sql);
    }
    PQclear(r);
  }
  std::vector<std::string> Rows(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      const std::string message = PQresultErrorMessage(r);
      PQclear(r);
      Die("postgres: " + message + " in: " + sql);
    }
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    return out;
  }
  int64_t Count(const std::string& sql) { return std::stoll(Rows(sql).at(0)); }
  void LoadCsv(const std::string& csv) {
    Exec("DROP TABLE IF EXISTS individuals");
    Exec(
        "CREATE TABLE individuals (row_id integer PRIMARY KEY, sex text, vital_status text, "
        "icd10_category text, age_at_diagnosis integer, stage_group text, m_category text, "
        "antineoplastic smallint, surgery smallint)");
    PGresult* r = PQexec(conn_, "COPY individuals FROM STDIN WITH (FORMAT csv, HEADER true)");
    if (PQresultStatus(r) != PGRES_COPY_IN)
      Die(std::string("postgres COPY: ") + PQerrorMessage(conn_));
    PQclear(r);
    std::ifstream in(csv, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto n = in.gcount();
      if (n > 0 && PQputCopyData(conn_, buffer.data(), static_cast<int>(n)) != 1) {
        Die(std::string("postgres COPY: ") + PQerrorMessage(conn_));
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1)
      Die(std::string("postgres COPY: ") + PQerrorMessage(conn_));
    r = PQgetResult(conn_);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      Die(std::string("postgres COPY: ") + PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
    for (const char* c : kColumns) {
      Exec(std::string("CREATE INDEX individuals_") + c + " ON individuals(" + c + ")");
    }
    Exec("VACUUM ANALYZE individuals");
  }
  std::string Plan(const std::string& sql) {
    std::string out;
    for (const std::string& line : Rows("EXPLAIN " + sql)) {
      std::string l = line.substr(line.find_first_not_of(' '));
      if (l.rfind("->", 0) == 0) l = l.substr(l.find_first_not_of(" ->"));
      if (l.find("Filter") == 0 || l.find("Recheck") == 0 || l.find("Index Cond") == 0 ||
          l.find("Workers") == 0) {
        continue;
      }
      if (!out.empty()) out += " > ";
      out += l.substr(0, l.find("  ("));
    }
    return out;
  }

 private:
  PGconn* conn_;
};

// ------------------------------------------------------------------ one size
struct Options {
  std::vector<int64_t> sizes = {1'000'000, 10'000'000};
  std::string workdir;
  std::string pg;
  std::string site = "bench";
  uint64_t seed = 1;
  int index_reps = 2000;
  int sqlite_reps = 5;
  int pg_reps = 10;
  bool sqlite = true;
};

std::string Ms(double ms) {
  char buf[32];
  if (std::isnan(ms)) return "n/a";
  if (ms < 1) {
    std::snprintf(buf, sizeof buf, "%.4f", ms);
  } else if (ms < 100) {
    std::snprintf(buf, sizeof buf, "%.2f", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", ms);
  }
  return buf;
}

std::string Ratio(double a, double b) {
  if (std::isnan(a) || std::isnan(b) || b <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fx", a / b);
  return buf;
}

FILE* g_results = stdout;  // where RESULT lines go (--results FILE, else stdout)

void Emit(int64_t n, const std::string& key, double value) {
  std::fprintf(g_results, "RESULT %lld %s %.10g\n", static_cast<long long>(n), key.c_str(), value);
  std::fflush(g_results);
}

bool RunSize(int64_t n, const Options& o, const index::Vocabulary& vocab) {
  std::printf("\n=== %lld individuals (site %s, seed %llu) ===\n", static_cast<long long>(n),
              o.site.c_str(), static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  const long rss_before = RssKb();
  std::vector<Fact> facts(static_cast<size_t>(n));
  index::IndexBuilder builder(vocab);
  synth::SynthOptions so;
  so.site = o.site;
  so.individuals = n;
  so.seed = o.seed;
  uint32_t next_row = 0;
  double add_seconds = 0;
  const auto t0 = Clock::now();
  const Status st = synth::GenerateRecords(so, [&](const model::RecordBatch& b) {
    const auto a = Clock::now();
    if (const Status added = builder.AddBatch(b); !added.ok()) Die(added.ToString());
    add_seconds += Seconds(a, Clock::now());
    AddToFacts(b, next_row, facts);
    next_row += static_cast<uint32_t>(b.individuals.size());
  });
  if (!st.ok()) Die(st.ToString());
  const auto t1 = Clock::now();
  std::unique_ptr<index::CohortIndex> idx = builder.Finish();
  const auto t2 = Clock::now();
  const long rss_after = RssKb();
  for (Fact& f : facts) {
    if (f.first_diagnosis != model::kNoDate && f.birth != model::kNoDate) {
      f.age = static_cast<int16_t>(model::WholeYearsBetween(f.birth, f.first_diagnosis));
    }
  }
  const index::IndexStats& stats = idx->stats();
  size_t id_bytes = 0;
  for (uint32_t row = 0; row < idx->num_rows(); ++row) {
    const std::string& id = idx->IndividualId(row);
    id_bytes += sizeof(std::string) + (id.size() > 15 ? id.capacity() + 1 : 0);
  }
  const double dn = static_cast<double>(n);
  std::printf(
      "generate records + feed IndexBuilder: %.1f s (of which IndexBuilder::Add*: %.1f s); "
      "IndexBuilder::Finish: %.1f s\n",
      Seconds(t0, t1), add_seconds, Seconds(t1, t2));
  std::printf(
      "index: %u individuals, %llu records; stats().memory_bytes %.1f MB = %.1f bytes per "
      "individual (postings, ranges, biosample counts)\n",
      stats.individuals, static_cast<unsigned long long>(stats.records),
      static_cast<double>(stats.memory_bytes) / 1e6, static_cast<double>(stats.memory_bytes) / dn);
  std::printf(
      "       not in stats: the individual id table, %.1f bytes per individual here "
      "(ids like '%s'); process RSS grew %.0f MB while building\n",
      static_cast<double>(id_bytes) / dn, idx->IndividualId(0).c_str(),
      static_cast<double>(rss_after - rss_before) / 1024.0);
  Emit(n, "generate_and_add_s", Seconds(t0, t1));
  Emit(n, "index_add_s", add_seconds);
  Emit(n, "index_finish_s", Seconds(t1, t2));
  Emit(n, "index_build_s", add_seconds + Seconds(t1, t2));
  Emit(n, "index_bytes_per_individual", static_cast<double>(stats.memory_bytes) / dn);
  Emit(n, "id_table_bytes_per_individual", static_cast<double>(id_bytes) / dn);
  Emit(n, "rss_growth_mb", static_cast<double>(rss_after - rss_before) / 1024.0);

  // The three most frequent ICD-10 categories (first primary diagnosis).
  std::map<std::string, int64_t> freq;
  for (const Fact& f : facts) ++freq[f.icd10_category];
  std::vector<std::pair<int64_t, std::string>> by_count;
  for (const auto& [c, k] : freq) {
    if (!std::string(c).empty()) by_count.emplace_back(-k, c);
  }
  std::sort(by_count.begin(), by_count.end());
  if (by_count.size() < 3) Die("fewer than three diagnoses");
  std::vector<std::string> top3;
  for (int i = 0; i < 3; ++i) top3.push_back(by_count[static_cast<size_t>(i)].second);
  std::printf("most frequent diagnoses: %s %.1f%%, %s %.1f%%, %s %.1f%%\n", top3[0].c_str(),
              -100.0 * static_cast<double>(by_count[0].first) / dn, top3[1].c_str(),
              -100.0 * static_cast<double>(by_count[1].first) / dn, top3[2].c_str(),
              -100.0 * static_cast<double>(by_count[2].first) / dn);
  const std::vector<bench::Query> queries = bench::MakeQueries(top3);
  std::filesystem::create_directories(o.workdir);
  for (const bench::Query& q : queries) {
    std::ofstream(o.workdir + "/" + q.name + ".json") << q.body << "\n";
  }

  const std::string csv = o.workdir + "/individuals_" + std::to_string(n) + ".csv";
  auto t3 = Clock::now();
  WriteCsv(facts, csv);
  std::vector<Fact>().swap(facts);
  std::printf("fact table CSV: %s (%.0f MB, %.1f s)\n", csv.c_str(),
              static_cast<double>(std::filesystem::file_size(csv)) / 1e6,
              Seconds(t3, Clock::now()));

  std::unique_ptr<Sqlite> lite;
  if (o.sqlite) {
    t3 = Clock::now();
    lite = std::make_unique<Sqlite>(o.workdir + "/individuals_" + std::to_string(n) + ".sqlite");
    lite->LoadCsv(csv);
    std::printf("SQLite %s: loaded, %zu indexes, ANALYZE: %.1f s\n", sqlite3_libversion(),
                std::size(kColumns), Seconds(t3, Clock::now()));
    Emit(n, "sqlite_load_s", Seconds(t3, Clock::now()));
  }
  std::unique_ptr<Postgres> pg;
  if (!o.pg.empty()) {
    t3 = Clock::now();
    pg = std::make_unique<Postgres>(o.pg);
    pg->LoadCsv(csv);
    std::printf("PostgreSQL %s: COPY, %zu indexes, VACUUM ANALYZE: %.1f s\n",
                pg->Rows("SHOW server_version").at(0).c_str(), std::size(kColumns),
                Seconds(t3, Clock::now()));
    Emit(n, "pg_load_s", Seconds(t3, Clock::now()));
  }
  std::filesystem::remove(csv);

  bool agree = true;
  struct Row {
    std::string name;
    int64_t count;
    Timing index, request, lite, pg;
  };
  std::vector<Row> rows;
  for (const bench::Query& q : queries) {
    Result<query::BeaconRequest> request = query::ParseBeaconPost(q.body);
    if (!request.ok()) Die(request.status().ToString());
    Result<index::Plan> plan = query::BuildPlan(request->filters, *idx);
    if (!plan.ok()) Die(plan.status().ToString());
    Row row;
    row.name = q.name;
    row.count = static_cast<int64_t>(idx->Count(*plan));
    const int64_t lite_count = lite ? lite->Count(q.sql) : row.count;
    const int64_t pg_count = pg ? pg->Count(q.sql) : row.count;
    std::printf("%s: count index %lld, SQLite %s, PostgreSQL %s (%.3f%% of individuals)%s\n",
                q.name.c_str(), static_cast<long long>(row.count),
                lite ? std::to_string(lite_count).c_str() : "n/a",
                pg ? std::to_string(pg_count).c_str() : "n/a",
                100.0 * static_cast<double>(row.count) / dn,
                lite_count == row.count && pg_count == row.count ? "  [agree]" : "  [DISAGREE]");
    std::printf("  filters: %s\n  SQL:     %s\n", request->filters.dump().c_str(), q.sql.c_str());
    if (lite) std::printf("  SQLite plan:     %s\n", lite->Plan(q.sql).c_str());
    if (pg) std::printf("  PostgreSQL plan: %s\n", pg->Plan(q.sql).c_str());
    agree = agree && lite_count == row.count && pg_count == row.count;
    Emit(n, q.name + "_count", static_cast<double>(row.count));

    volatile uint64_t sink = 0;
    row.index = TimeRuns(20, o.index_reps, 1.0, [&] { sink = sink + idx->Count(*plan); });
    // What a node does for one count request besides HTTP: parse the body, plan, count.
    row.request = TimeRuns(20, o.index_reps / 4, 0.5, [&] {
      auto r = query::ParseBeaconPost(q.body);
      auto p = query::BuildPlan(r->filters, *idx);
      sink = sink + idx->Count(*p);
    });
    if (lite) row.lite = TimeRuns(1, o.sqlite_reps, 0, [&] { sink = sink + lite->Count(q.sql); });
    if (pg) row.pg = TimeRuns(3, o.pg_reps, 0, [&] { sink = sink + pg->Count(q.sql); });
    rows.push_back(row);
  }

  std::printf("\n%-10s %-34s %10s %10s %6s  %10s %10s\n", "query", "system", "p50 ms", "p99 ms",
              "runs", "vs index", "count");
  for (const Row& r : rows) {
    auto line = [&](const char* system, const Timing& t) {
      std::printf("%-10s %-34s %10s %10s %6zu  %10s %10lld\n", r.name.c_str(), system,
                  Ms(t.p50_ms).c_str(), Ms(t.p99_ms).c_str(), t.runs,
                  Ratio(t.p50_ms, r.index.p50_ms).c_str(), static_cast<long long>(r.count));
    };
    line("index Count(plan)", r.index);
    line("index parse+plan+count", r.request);
    if (lite) line("SQLite (8 single-column indexes)", r.lite);
    if (pg) line("PostgreSQL (8 btree indexes)", r.pg);
    Emit(n, r.name + "_index_p50_ms", r.index.p50_ms);
    Emit(n, r.name + "_index_p99_ms", r.index.p99_ms);
    Emit(n, r.name + "_request_p50_ms", r.request.p50_ms);
    Emit(n, r.name + "_request_p99_ms", r.request.p99_ms);
    if (lite) {
      Emit(n, r.name + "_sqlite_p50_ms", r.lite.p50_ms);
      Emit(n, r.name + "_sqlite_p99_ms", r.lite.p99_ms);
    }
    if (pg) {
      Emit(n, r.name + "_pg_p50_ms", r.pg.p50_ms);
      Emit(n, r.name + "_pg_p99_ms", r.pg.p99_ms);
    }
  }
  Emit(n, "counts_agree", agree ? 1 : 0);
  std::fflush(stdout);
  if (pg) pg->Exec("DROP TABLE individuals");
  return agree;
}

std::vector<int64_t> ParseSizes(const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    int64_t mult = 1;
    if (!item.empty() && (item.back() == 'k' || item.back() == 'K')) mult = 1000;
    if (!item.empty() && (item.back() == 'm' || item.back() == 'M')) mult = 1'000'000;
    if (mult != 1) item.pop_back();
    out.push_back(static_cast<int64_t>(std::stod(item) * static_cast<double>(mult)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens under run.sh
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--sizes") {
      o.sizes = ParseSizes(value());
    } else if (arg == "--workdir") {
      o.workdir = value();
    } else if (arg == "--pg") {
      o.pg = value();
    } else if (arg == "--site") {
      o.site = value();
    } else if (arg == "--seed") {
      o.seed = std::stoull(value());
    } else if (arg == "--index-reps") {
      o.index_reps = std::stoi(value());
    } else if (arg == "--sqlite-reps") {
      o.sqlite_reps = std::stoi(value());
    } else if (arg == "--pg-reps") {
      o.pg_reps = std::stoi(value());
    } else if (arg == "--results") {
      const std::string path = value();
      g_results = std::fopen(path.c_str(), "a");
      if (g_results == nullptr) Die("cannot write " + path);
    } else if (arg == "--no-sqlite") {
      o.sqlite = false;
    } else {
      Die("unknown argument " + arg +
          " (--sizes 1M,10M --workdir DIR [--pg CONNINFO] [--site S] [--seed N] "
          "[--index-reps R] [--sqlite-reps R] [--pg-reps R] [--no-sqlite] [--results FILE])");
    }
  }
  if (o.workdir.empty()) Die("--workdir is required");
  Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
  if (!vocab.ok()) Die(vocab.status().ToString());
  bool agree = true;
  for (int64_t n : o.sizes) agree = RunSize(n, o, *vocab) && agree;
  if (!agree) {
    std::printf(
        "\ncohort_bench: COUNTS DISAGREE between the index and SQL: timings are not "
        "comparable\n");
    return 1;
  }
  return 0;
}
