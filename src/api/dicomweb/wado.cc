// WADO-RS (PS3.18 10.4): content negotiation, the multipart/related body and the metadata,
// which DCMTK writes (PS3.18 F.2 through DcmJsonFormat): no DICOM parsing or JSON encoding of
// our own.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcjson.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "api/dicomweb/internal/dicomweb_internal.h"

namespace oncomesh::api::dicomweb::internal {

namespace {

std::string Trim(const std::string& text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return text.substr(b, e - b);
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Splits at `sep` outside double quotes.
std::vector<std::string> SplitOutsideQuotes(const std::string& text, char sep) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == sep && !quoted) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

struct MediaRange {
  std::string type;                           // lower case, "multipart/related"
  std::map<std::string, std::string> params;  // names lower case, values unquoted
  bool refused = false;                       // q=0
};

std::vector<MediaRange> ParseAccept(const std::string& accept) {
  std::vector<MediaRange> out;
  for (const std::string& item : SplitOutsideQuotes(accept, ',')) {
    std::vector<std::string> pieces = SplitOutsideQuotes(item, ';');
    MediaRange range;
    range.type = Lower(Trim(pieces[0]));
    if (range.type.empty()) continue;
    for (size_t i = 1; i < pieces.size(); ++i) {
      const size_t eq = pieces[i].find('=');
      if (eq == std::string::npos) continue;
      std::string value = Trim(pieces[i].substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      range.params[Lower(Trim(pieces[i].substr(0, eq)))] = value;
    }
    auto q = range.params.find("q");
    range.refused =
        q != range.params.end() && std::all_of(q->second.begin(), q->second.end(),
                                               [](char c) { return c == '0' || c == '.'; });
    out.push_back(std::move(range));
  }
  return out;
}

}  // namespace

bool AcceptsDicomMultipart(const std::string* accept, const std::set<std::string>& syntaxes) {
  if (accept == nullptr || Trim(*accept).empty()) return true;
  for (const MediaRange& r : ParseAccept(*accept)) {
    if (r.refused) continue;
    if (r.type == "*/*" || r.type == "multipart/*") return true;
    if (r.type != "multipart/related") continue;
    auto type = r.params.find("type");
    if (type != r.params.end() && Lower(type->second) != "application/dicom") continue;
    // PS3.18 8.7.3.5.2: transfer-syntax=* lets the origin server choose; a named one must be
    // what every instance is stored in, since the node does not transcode.
    auto ts = r.params.find("transfer-syntax");
    if (ts == r.params.end() || ts->second == "*") return true;
    if (std::all_of(syntaxes.begin(), syntaxes.end(),
                    [&](const std::string& s) { return s == ts->second; })) {
      return true;
    }
  }
  return false;
}

bool AcceptsDicomJson(const std::string* accept) {
  if (accept == nullptr || Trim(*accept).empty()) return true;
  for (const MediaRange& r : ParseAccept(*accept)) {
    if (r.refused) continue;
    if (r.type == "*/*" || r.type == "application/*" || r.type == "application/dicom+json" ||
        r.type == "application/json") {
      return true;
    }
  }
  return false;
}

std::string MultipartRelated(const std::vector<std::pair<std::string, std::string>>& parts,
                             const std::string& boundary) {
  std::string out;
  for (const auto& [content_type, bytes] : parts) {
    out.append("--").append(boundary).append("\r\nContent-Type: ").append(content_type);
    out.append("\r\n\r\n").append(bytes).append("\r\n");
  }
  out.append("--").append(boundary).append("--\r\n");
  return out;
}

Result<std::string> DicomJsonOfFile(const std::string& path) {
  DcmFileFormat file;
  // Elements over 4 KiB stay on disk until written: the pixel data, dropped below, never loads.
  OFCondition cond = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096);
  if (cond.bad())
    return Internal("a stored DICOM instance cannot be read: " + std::string(cond.text()));
  DcmDataset* dataset = file.getDataset();
  for (const DcmTagKey& bulk : {DCM_PixelData, DCM_FloatPixelData, DCM_DoubleFloatPixelData}) {
    dataset->findAndDeleteElement(bulk);
  }
  // PS3.18 F.2: DICOM JSON is UTF-8; the Specific Character Set then says ISO_IR 192.
  cond = file.convertToUTF8();
  if (cond.bad()) {
    return Internal("a stored DICOM instance cannot be converted to UTF-8: " +
                    std::string(cond.text()));
  }
  std::ostringstream out;
  DcmJsonFormatCompact format(/*printMetaInfo=*/OFFalse);
  // As dcm2json does: the file's writer puts the data set in braces, without the meta header.
  cond = file.writeJson(out, format);
  if (cond.bad()) return Internal("DICOM JSON of a stored instance: " + std::string(cond.text()));
  return out.str();
}

}  // namespace oncomesh::api::dicomweb::internal
