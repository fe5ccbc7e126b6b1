// Keyed pseudonyms and per-individual date shifting.
//
// A pseudonym is HMAC-SHA256(node secret, kind + "\0" + source identifier), hex encoded and cut
// to 32 characters (128 bits): the same source record always maps to the same pseudonym on one
// node (so re-ingest is idempotent and one person's records link across formats), and nobody
// without the secret can recover or confirm the source identifier.
//
// A date shift is a whole number of days in [-kMaxShiftDays, kMaxShiftDays], never 0, derived
// the same way from the individual's source identifier: stable across ingests and formats,
// the same for every date of one individual, so intervals between them are preserved.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "model/date.h"
#include "util/status.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX
struct evp_md_ctx_st;   // OpenSSL's EVP_MD_CTX

namespace oncomesh::deid {

inline constexpr int kMaxShiftDays = 365;
inline constexpr size_t kSecretBytes = 32;

class Pseudonymizer {
 public:
  // `secret` must be kSecretBytes random bytes (see node/node_dir.h for how it is made).
  explicit Pseudonymizer(std::string secret);

  // Pseudonym of a source identifier of a given kind ("Patient", "Condition", a DICOM UID
  // root…). Thread-safe.
  std::string Pseudonym(std::string_view kind, std::string_view source_id) const;

  // The pseudonym of an individual (model::Individual::id) known in the source system by
  // `patient_id` (a FHIR Patient.id, or the patient a VCF sample is mapped to). Every ingest
  // calls this one function, so one person's records link across formats. Thread-safe.
  std::string IndividualPseudonym(std::string_view patient_id) const {
    return Pseudonym("Patient", patient_id);
  }

  // The key under which a medical record number (FHIR Patient.identifier of type MR, the
  // DICOM Patient ID a PACS sends) links to its individual (model::PatientLink). Thread-safe.
  std::string PatientIdentifierKey(std::string_view value) const {
    return Pseudonym("PatientIdentifier", value);
  }

  // The date offset, in days, for the individual with this source identifier. Thread-safe.
  int DateShiftDays(std::string_view individual_source_id) const;

  // Shifts `date` by the individual's offset; kNoDate stays kNoDate.
  model::Date ShiftDate(std::string_view individual_source_id, model::Date date) const {
    return date == model::kNoDate ? date : date + DateShiftDays(individual_source_id);
  }

 private:
  std::array<uint8_t, 32> Mac(std::string_view domain, std::string_view kind,
                              std::string_view source_id) const;
  std::string secret_;
  // HMAC-SHA256 context keyed with the secret, copied once into each thread that computes a
  // pseudonym (the key schedule and the algorithm fetch then happen once per thread, not per
  // call: measured a third of the cost of a one-shot HMAC()). `id_` names the secret for those
  // per-thread copies; copies of this object share both.
  std::shared_ptr<evp_mac_ctx_st> keyed_;
  uint64_t id_ = 0;
};

// Fresh random secret of kSecretBytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
Result<std::string> NewSecret();

// Lower-case hex of bytes.
std::string Hex(std::string_view bytes);

// SHA-256 of bytes, lower-case hex.
std::string Sha256Hex(std::string_view bytes);

// Incremental SHA-256 (OpenSSL EVP), e.g. of a file read in blocks. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const char* data, size_t size);
  // Lower-case hex digest of everything given so far; call once.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace oncomesh::deid
