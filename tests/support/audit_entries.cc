#include "support/audit_entries.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "audit/verify.h"

namespace oncomesh::testing {

std::vector<nlohmann::json> AuditRequestEntries(const std::string& audit_dir, int64_t after_seq) {
  std::vector<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(audit_dir)) {
    if (f.path().extension() == ".jsonl") names.push_back(f.path().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<nlohmann::json> out;
  for (const std::string& name : names) {
    std::ifstream in(name);
    for (std::string line; std::getline(in, line);) {
      nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_discarded()) return out;
      if (e.value("seq", int64_t{0}) > after_seq &&
          (e["type"] == "request" || e["type"] == "refusal")) {
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

const auth::Jwk& AuditSigningKey() {
  static const auth::Jwk key = *auth::Jwk::GenerateEs256();
  return key;
}

std::vector<auth::Jwk> AuditPublicKeys() {
  return *audit::ParseJwks(audit::PublicJwks({AuditSigningKey()}));
}

}  // namespace oncomesh::testing
