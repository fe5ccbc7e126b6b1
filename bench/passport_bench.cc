// What a GA4GH Passport costs a node, in-process (Google Benchmark):
//
//   BM_CountQuery            POST /api/individuals with one filter (count granularity) through
//                            the node's real router and Beacon handler (NodeService over a small
//                            synthetic node: synth -> node init -> ingest fhir, all in-process),
//                            anonymous and as a registered researcher whose passport (three
//                            visas) was verified before, alternating in the same loop so both
//                            see the same machine: p50 of each and the p50 of the difference.
//   BM_VerifyPassport/ES256  first-time verification of a passport with three visas (four
//   BM_VerifyPassport/RS256  signatures), keys known: what a new bearer token costs once.
//   BM_CallerForCached       the per-request cost of a cached passport alone: the header, a
//                            SHA-256 of the token, a cache lookup, the access levels.
//
// Target (issue 5): a count query with a cached, verified passport adds <= 50 us p50 over an
// anonymous one. Ends with "RESULT auth <name> <value>" lines for bench/run.sh.
//
// BENCH_AUTH_INDIVIDUALS (default 10000) sets the node's size.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/node_service.h"
#include "auth/issuer_keys.h"
#include "auth/passport.h"
#include "http/http.h"
#include "ingest/fhir/fhir_ingest.h"
#include "node/node_dir.h"
#include "support/test_broker.h"
#include "synth/synth.h"

namespace {

using namespace oncomesh;
namespace fs = std::filesystem;
using nlohmann::json;

const char* const kGrant = "https://ega.bench.test/datasets/EGAD0001";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "passport_bench: %s\n", what.c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1))))];
}

// The brokers, the node and the requests, made once.
struct Fixture {
  Fixture()
      : es("https://es-broker.bench.test", "ES256"),
        rs("https://rs-broker.bench.test", "RS256"),
        dir((fs::temp_directory_path() / ("passport-bench-" + std::to_string(getpid()))).string()) {
    const char* n = std::getenv("BENCH_AUTH_INDIVIDUALS");
    individuals = n ? std::atoll(n) : 10000;
    fs::create_directories(dir);
    synth::SynthOptions s;
    s.site = "pbench";
    s.individuals = individuals;
    s.seed = 1;
    s.out_dir = dir + "/fhir";
    s.genomes = 0;
    s.images = 0;
    if (Status st = synth::WriteSyntheticSite(s); !st.ok()) Die(st.ToString());

    const std::string node_dir = dir + "/node";
    node::NodeConfig config;
    config.name = "pbench";
    const std::vector<std::string> all = {"ResearcherStatus", "AffiliationAndRole",
                                          "AcceptedTermsAndPolicies", "LinkedIdentities",
                                          "ControlledAccessGrants"};
    config.access.trusted_issuers = {{es.issuer(), "", "es.jwks.json", true, all},
                                     {rs.issuer(), "", "rs.jwks.json", true, all}};
    config.datasets.at(0).grant_values = {kGrant};
    fs::create_directories(node_dir);
    es.WriteJwks(node_dir + "/es.jwks.json");
    rs.WriteJwks(node_dir + "/rs.jwks.json");
    Result<node::NodeDir> node = node::NodeDir::Init(node_dir, config);
    if (!node.ok()) Die(node.status().ToString());
    {
      Result<std::unique_ptr<store::Store>> store = node->OpenStore();
      if (!store.ok()) Die(store.status().ToString());
      Result<ingest::IngestReport> report = ingest::IngestFhir(*node, **store, {dir + "/fhir"});
      if (!report.ok()) Die(report.status().ToString());
    }
    Result<std::unique_ptr<api::NodeService>> opened = api::NodeService::Open(node_dir);
    if (!opened.ok()) Die(opened.status().ToString());
    service = std::move(*opened);
    service->Register(router);

    count_request.method = "POST";
    count_request.target = count_request.path = "/api/individuals";
    count_request.headers["content-type"] = "application/json";
    count_request.body = json{
        {"meta", {{"apiVersion", "v2.0"}}},
        {"query",
         {{"filters", json::array({{{"id", "NCIT:C16576"}}})},
          {"requestedGranularity",
           "count"}}}}.dump();
    registered_request = count_request;
    registered_request.headers["authorization"] = "Bearer " + ThreeVisas(es);

    // Check that the two requests are what they claim to be.
    const json anonymous = json::parse(Call(count_request).body);
    const json registered = json::parse(Call(registered_request).body);
    if (anonymous["info"]["accessLevel"] != "anonymous" ||
        registered["info"]["accessLevel"] != "registered") {
      Die("unexpected answers: " + anonymous.dump() + " / " + registered.dump());
    }
    std::fprintf(stderr, "passport_bench: node of %lld individuals; count as registered: %s\n",
                 static_cast<long long>(individuals), registered["responseSummary"].dump().c_str());
  }
  ~Fixture() {
    service.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // A registered researcher's passport: ResearcherStatus, AffiliationAndRole, and a grant for
  // a dataset this node does not hold (so the caller stays registered).
  static std::string ThreeVisas(const testing::TestBroker& broker) {
    testing::TestBroker::VisaSpec status;
    testing::TestBroker::VisaSpec role;
    role.type = "AffiliationAndRole";
    role.value = "faculty@uni.bench.test";
    testing::TestBroker::VisaSpec grant;
    grant.type = "ControlledAccessGrants";
    grant.value = "https://ega.bench.test/datasets/OTHER";
    grant.by = "dac";
    return broker.Passport({broker.Visa(status), broker.Visa(role), broker.Visa(grant)});
  }

  http::Response Call(http::Request request) {
    bool method_mismatch = false;
    const http::Route* route = router.Match(request, &method_mismatch);
    if (route == nullptr) Die("no route for " + request.path);
    http::Response out;
    route->handler(request, [&out](http::Response r) { out = std::move(r); });
    return out;
  }

  testing::TestBroker es, rs;
  std::string dir;
  int64_t individuals = 0;
  std::unique_ptr<api::NodeService> service;
  http::Router router;
  http::Request count_request, registered_request;
};

std::unique_ptr<Fixture>& FixtureSlot() {
  static std::unique_ptr<Fixture> fixture;
  return fixture;
}
Fixture& F() {
  if (!FixtureSlot()) FixtureSlot() = std::make_unique<Fixture>();
  return *FixtureSlot();
}

// p50s (microseconds) of the last run of each benchmark, for the summary.
std::map<std::string, double>& Results() {
  static std::map<std::string, double> results;
  return results;
}

using Clock = std::chrono::steady_clock;
double Us(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

void BM_CountQuery(benchmark::State& state) {
  Fixture& f = F();
  std::vector<double> anonymous, registered, added;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    http::Response a = f.Call(f.count_request);
    const auto t1 = Clock::now();
    http::Response r = f.Call(f.registered_request);
    const auto t2 = Clock::now();
    benchmark::DoNotOptimize(a.body.data());
    benchmark::DoNotOptimize(r.body.data());
    anonymous.push_back(Us(t0, t1));
    registered.push_back(Us(t1, t2));
    added.push_back(Us(t1, t2) - Us(t0, t1));
  }
  auto& res = Results();
  res["count_anonymous_p50_us"] = Percentile(anonymous, 0.5);
  res["count_anonymous_p99_us"] = Percentile(anonymous, 0.99);
  res["count_registered_cached_p50_us"] = Percentile(registered, 0.5);
  res["count_registered_cached_p99_us"] = Percentile(registered, 0.99);
  res["passport_added_p50_us"] = Percentile(added, 0.5);
  state.counters["anon_p50_us"] = res["count_anonymous_p50_us"];
  state.counters["reg_p50_us"] = res["count_registered_cached_p50_us"];
  state.counters["added_p50_us"] = res["passport_added_p50_us"];
}
BENCHMARK(BM_CountQuery)->MinTime(3.0)->UseRealTime();

void BM_CallerForCached(benchmark::State& state) {
  Fixture& f = F();
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    Result<auth::Caller> caller = f.service->CallerFor(f.registered_request);
    us.push_back(Us(t0, Clock::now()));
    if (!caller.ok()) {
      state.SkipWithError(caller.status().ToString().c_str());
      break;
    }
  }
  Results()["caller_for_cached_p50_us"] = Percentile(us, 0.5);
  state.counters["p50_us"] = Results()["caller_for_cached_p50_us"];
}
BENCHMARK(BM_CallerForCached)->MinTime(1.0)->UseRealTime();

// A verifier as the node's, but reusing nothing: cache_seconds 0 makes every Verify a first one.
void BM_VerifyPassport(benchmark::State& state, const char* alg) {
  Fixture& f = F();
  const testing::TestBroker& broker = std::string(alg) == "ES256" ? f.es : f.rs;
  auth::AccessConfig config;
  config.trusted_issuers = {{broker.issuer(),
                             "",
                             "",
                             true,
                             {"ResearcherStatus", "AffiliationAndRole", "ControlledAccessGrants"}}};
  auto keys =
      std::make_shared<auth::IssuerKeys>(config.trusted_issuers, "", nullptr, auth::SystemClock());
  Result<std::vector<auth::Jwk>> jwks = auth::ParseJwks(broker.Jwks().dump());
  if (!jwks.ok()) Die(jwks.status().ToString());
  keys->AddKeys(broker.issuer(), *jwks);
  auth::PassportVerifier::Limits limits;
  limits.cache_seconds = 0;
  auth::PassportVerifier verifier(config, keys, auth::SystemClock(), limits);
  const std::string token = Fixture::ThreeVisas(broker);
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    Result<std::shared_ptr<const auth::Passport>> p = verifier.Verify(token);
    us.push_back(Us(t0, Clock::now()));
    if (!p.ok() || (*p)->visas.size() != 3) {
      state.SkipWithError(p.ok() ? "a visa was refused" : p.status().ToString().c_str());
      break;
    }
  }
  const std::string name =
      std::string("verify_") + (std::string(alg) == "ES256" ? "es256" : "rs256");
  Results()[name + "_p50_us"] = Percentile(us, 0.5);
  Results()[name + "_p99_us"] = Percentile(us, 0.99);
  state.counters["p50_us"] = Results()[name + "_p50_us"];
}
BENCHMARK_CAPTURE(BM_VerifyPassport, ES256, "ES256")->MinTime(2.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyPassport, RS256, "RS256")->MinTime(2.0)->UseRealTime();

// One signature check (auth::VerifyJws: decode, cjose import, verify) of one visa, and the
// decoding alone (auth::DecodeJws), to split BM_VerifyPassport into crypto and parsing.
void BM_VerifyOneVisa(benchmark::State& state, const char* alg, bool decode_only) {
  Fixture& f = F();
  const testing::TestBroker& broker = std::string(alg) == "ES256" ? f.es : f.rs;
  const std::string visa = broker.Visa(testing::TestBroker::VisaSpec());
  const auth::Jwk key = (*auth::ParseJwks(broker.Jwks().dump()))[0];
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const bool ok = decode_only ? auth::DecodeJws(visa).ok() : auth::VerifyJws(visa, key).ok();
    us.push_back(Us(t0, Clock::now()));
    if (!ok) {
      state.SkipWithError("the visa does not verify");
      break;
    }
  }
  const std::string name = std::string(decode_only ? "decode_visa_" : "verify_visa_") +
                           (std::string(alg) == "ES256" ? "es256" : "rs256") + "_p50_us";
  Results()[name] = Percentile(us, 0.5);
  state.counters["p50_us"] = Results()[name];
}
BENCHMARK_CAPTURE(BM_VerifyOneVisa, ES256, "ES256", false)->MinTime(1.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyOneVisa, RS256, "RS256", false)->MinTime(1.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyOneVisa, DecodeOnly, "ES256", true)->MinTime(1.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  F();  // build the node before any timing
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto& r = Results();
  auto get = [&r](const char* k) {
    auto it = r.find(k);
    return it == r.end() ? NAN : it->second;
  };
  std::printf("\nPassport cost, in-process, node of %lld individuals (p50, microseconds):\n",
              static_cast<long long>(F().individuals));
  std::printf("  count query, anonymous                      %8.1f  (p99 %.1f)\n",
              get("count_anonymous_p50_us"), get("count_anonymous_p99_us"));
  std::printf("  count query, registered, passport cached    %8.1f  (p99 %.1f)\n",
              get("count_registered_cached_p50_us"), get("count_registered_cached_p99_us"));
  std::printf("  added by the passport (p50 of differences)  %8.1f  target <= 50: %s\n",
              get("passport_added_p50_us"), get("passport_added_p50_us") <= 50 ? "PASS" : "MISS");
  std::printf("  CallerFor, cached passport                  %8.1f\n",
              get("caller_for_cached_p50_us"));
  std::printf("  first verification, 3 visas, ES256          %8.1f  (p99 %.1f)\n",
              get("verify_es256_p50_us"), get("verify_es256_p99_us"));
  std::printf("  first verification, 3 visas, RS256          %8.1f  (p99 %.1f)\n",
              get("verify_rs256_p50_us"), get("verify_rs256_p99_us"));
  std::printf(
      "    of which one visa's VerifyJws: ES256 %.1f, RS256 %.1f; its DecodeJws alone %.1f\n",
      get("verify_visa_es256_p50_us"), get("verify_visa_rs256_p50_us"),
      get("decode_visa_es256_p50_us"));
  for (const auto& [k, v] : r) std::printf("RESULT auth %s %.3f\n", k.c_str(), v);
  std::printf("RESULT auth individuals %lld\n", static_cast<long long>(F().individuals));
  FixtureSlot().reset();  // removes the node's files
  return 0;
}
