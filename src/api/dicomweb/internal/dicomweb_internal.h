// DICOMweb internals shared by qido.cc, wado.cc and their tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/model.h"
#include "util/status.h"

namespace oncomesh::api::dicomweb::internal {

// The QIDO-RS query levels (PS3.18 10.6.1).
enum class Level { kStudy = 0, kSeries = 1, kInstance = 2 };

// One attribute matching condition of a QIDO query (PS3.4 C.2.2.2).
struct Condition {
  uint32_t tag = 0;
  std::vector<std::string> values;  // a list: any of them matches; empty: universal matching
  std::optional<std::pair<model::Date, model::Date>> date_range;  // for DA; bounds inclusive
};

inline constexpr uint32_t kStudyInstanceUidTag = 0x0020000D;
inline constexpr uint32_t kSeriesInstanceUidTag = 0x0020000E;

struct QidoQuery {
  Level level = Level::kStudy;
  std::vector<Condition> conditions;  // all must match
  size_t offset = 0;
  size_t limit = std::numeric_limits<size_t>::max();
  bool fuzzy_matching_requested = false;  // fuzzymatching=true: not supported, literal matching
};

// Parses QIDO-RS query parameters (PS3.18 8.3.4) for `level`. InvalidArgument naming the
// parameter for an unknown or malformed one.
Result<QidoQuery> ParseQidoQuery(Level level,
                                 const std::multimap<std::string, std::string>& params);

// A page of QIDO results over `instances` (every stored instance), as DICOM JSON objects
// (PS3.18 F.2), ordered by UID (series and instances by number first). `total` gets the number
// of matches before offset and limit. `base_url` ("http://host:port", may be empty) makes
// RetrieveURL (0008,1190).
std::vector<nlohmann::json> Search(const QidoQuery& query,
                                   const std::vector<model::DicomInstance>& instances,
                                   const std::string& base_url, size_t* total);

// "YYYYMMDD" (DICOM DA) of a date; "" for kNoDate.
std::string DicomDate(model::Date date);

// Accept header negotiation (RFC 9110 12.5.1; PS3.18 8.7): whether a multipart/related
// response of application/dicom parts in the transfer syntaxes `syntaxes` is acceptable, and
// whether application/dicom+json is. A missing header accepts anything.
bool AcceptsDicomMultipart(const std::string* accept, const std::set<std::string>& syntaxes);
bool AcceptsDicomJson(const std::string* accept);

// The multipart/related body (RFC 2387) of `parts` (content type, bytes) with `boundary`.
std::string MultipartRelated(const std::vector<std::pair<std::string, std::string>>& parts,
                             const std::string& boundary);

// The DICOM JSON model (PS3.18 F.2) of the data set of the DICOM file at `path`, written by
// DCMTK, without Pixel Data, Float Pixel Data and Double Float Pixel Data. Internal when the
// file cannot be read.
Result<std::string> DicomJsonOfFile(const std::string& path);

}  // namespace oncomesh::api::dicomweb::internal
