#include "audit/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/internal/chain.h"

namespace oncomesh::audit {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Unavailable("audit archive: cannot open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Unavailable("audit archive: cannot sync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("cannot read " + path);
  return ss.str();
}

// Writes `text` to `path` durably: a temporary file, fsync, rename, fsync of the directory.
Status WriteDurably(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Unavailable("audit archive: cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0640);
  RETURN_IF_ERROR(SyncPath(tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Unavailable("audit archive: cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return SyncPath(fs::path(path).parent_path().string());
}

json AnchorJson(const Anchor& a) {
  json archived = json::array();
  for (const ArchivedSegment& s : a.archived) {
    archived.push_back({{"file", s.file},
                        {"first_seq", s.first_seq},
                        {"last_seq", s.last_seq},
                        {"bytes", s.bytes},
                        {"sha256", s.sha256}});
  }
  return {{"anchor", {{"node", a.node}, {"seq", a.seq}, {"hash", a.hash}, {"time", a.time}}},
          {"jws", a.jws},
          {"archived", archived}};
}

// The last complete line of a segment's text, parsed (its hash checked by the caller's verify).
Result<internal::ParsedLine> LastEntry(const std::string& text, const std::string& name) {
  if (text.empty() || text.back() != '\n')
    return DataLoss("audit archive: " + name + " does not end with a whole line");
  const size_t start = text.rfind('\n', text.size() - 2);
  const std::string_view line =
      std::string_view(text).substr(start == std::string::npos ? 0 : start + 1);
  Result<internal::ParsedLine> e = internal::ParseLine(line.substr(0, line.size() - 1));
  if (!e.ok()) return e.status().WithContext("audit archive: " + name + ": its last line");
  return e;
}

}  // namespace

Result<std::optional<Anchor>> ReadAnchorFile(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Anchor>();
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const json doc = json::parse(text, nullptr, false);
  const auto bad = [&](const std::string& why) { return InvalidArgument(path + ": " + why); };
  if (!doc.is_object() || !doc.contains("anchor") || !doc["anchor"].is_object() ||
      !doc.contains("jws") || !doc["jws"].is_string()) {
    return bad("not an audit anchor ({\"anchor\": {...}, \"jws\": \"...\"})");
  }
  const json& a = doc["anchor"];
  if (!a.contains("seq") || !a["seq"].is_number_unsigned() || !a.contains("hash") ||
      !a["hash"].is_string() || !a.contains("time") || !a["time"].is_string() ||
      !a.contains("node") || !a["node"].is_string()) {
    return bad("the anchor needs node, seq, hash and time");
  }
  Anchor anchor;
  anchor.node = a["node"];
  anchor.seq = a["seq"];
  anchor.hash = a["hash"];
  anchor.time = a["time"];
  anchor.jws = doc["jws"];
  if (doc.contains("archived") && doc["archived"].is_array()) {
    for (const json& s : doc["archived"]) {
      if (!s.is_object()) return bad("an archived entry is not an object");
      anchor.archived.push_back({s.value("file", ""), s.value("first_seq", uint64_t{0}),
                                 s.value("last_seq", uint64_t{0}), s.value("bytes", uint64_t{0}),
                                 s.value("sha256", "")});
    }
  }
  return std::optional<Anchor>(std::move(anchor));
}

Result<std::optional<Anchor>> ReadAnchor(const std::string& audit_dir) {
  return ReadAnchorFile(audit_dir + "/ANCHOR.json");
}

Status VerifyAnchor(const Anchor& anchor, const std::vector<auth::Jwk>& keys) {
  Result<auth::JwsParts> parts = auth::DecodeJws(anchor.jws);
  if (!parts.ok()) return Unauthenticated(parts.status().message());
  const auth::Jwk* key = nullptr;
  for (const auth::Jwk& k : keys) {
    if (k.kid() == parts->kid) key = &k;
  }
  if (key == nullptr) {
    return Unauthenticated("signed with key \"" + parts->kid +
                           "\", which is not among the node's keys given");
  }
  if (Status st = auth::VerifyJws(anchor.jws, *key); !st.ok()) {
    return Unauthenticated("the signature does not verify with the node's key (" + st.message() +
                           ")");
  }
  if (parts->header.value("typ", "") != kAnchorTyp) {
    return Unauthenticated(std::string("the JWS is not of typ \"") + kAnchorTyp + "\"");
  }
  const json& c = parts->payload;
  if (c.value("seq", uint64_t{0}) != anchor.seq || c.value("hash", "") != anchor.hash ||
      c.value("time", "") != anchor.time || c.value("node", "") != anchor.node) {
    return Unauthenticated("the signed seq, hash, time or node is not the anchor's");
  }
  return Status::Ok();
}

Result<ArchiveSummary> ArchiveSegments(const std::string& audit_dir, const std::string& archive_dir,
                                       const std::string& before, const auth::Jwk& signing_key,
                                       const std::string& node_name,
                                       const std::vector<auth::Jwk>& keys) {
  ASSIGN_OR_RETURN(VerifyReport verified, VerifyLogDirectory(audit_dir, keys));
  if (!verified.ok()) {
    return DataLoss("audit archive: the log does not verify, nothing archived: " +
                    verified.problem->ToString());
  }
  ASSIGN_OR_RETURN(std::optional<Anchor> current, ReadAnchor(audit_dir));
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListSegments(audit_dir));
  std::error_code ec;
  fs::create_directories(archive_dir, ec);
  if (ec) return Unavailable("audit archive: cannot create " + archive_dir + ": " + ec.message());
  ::chmod(archive_dir.c_str(), 0750);

  ArchiveSummary summary;
  Anchor next = current.value_or(Anchor{});
  // Oldest first, never the newest; each while a checkpoint signs past its end and it is older
  // than `before`.
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    const std::string& name = names[i];
    const uint64_t first = *internal::SegmentFirstSeq(name);
    const uint64_t last = *internal::SegmentFirstSeq(names[i + 1]) - 1;
    const std::string path = audit_dir + "/" + name;
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    const std::string digest = internal::Sha256Hex(text);
    const std::string target = archive_dir + "/" + name;
    if (current && last <= current->seq) {
      // Archived by a run that stopped before removing it: the copy must be this file.
      ASSIGN_OR_RETURN(std::string copy, ReadFile(target));
      if (internal::Sha256Hex(copy) != digest) {
        return DataLoss("audit archive: " + target + " differs from " + path +
                        ", both before the anchor");
      }
      if (::unlink(path.c_str()) != 0) return Unavailable("audit archive: cannot remove " + path);
      RETURN_IF_ERROR(SyncPath(audit_dir));
      continue;
    }
    ASSIGN_OR_RETURN(internal::ParsedLine end, LastEntry(text, name));
    if (end.seq != last)
      return DataLoss("audit archive: " + name + " ends at seq " + std::to_string(end.seq));
    if (!(end.time < before)) {
      summary.why_not = name + " has entries from " + before + " on (its last: " + end.time + ")";
      break;
    }
    if (verified.last_checkpoint_seq <= last) {
      summary.why_not = name + " ends at seq " + std::to_string(last) +
                        ", which no checkpoint signs yet (the last is at seq " +
                        std::to_string(verified.last_checkpoint_seq) + ")";
      break;
    }
    // 1. The copy, durable.
    RETURN_IF_ERROR(WriteDurably(target, text));
    ArchivedSegment moved{name, first, last, text.size(), digest};
    // 2. The anchor, durable, in the archive and the log.
    next.node = node_name;
    next.seq = last;
    next.hash = end.hash;
    next.time = end.time;
    const json claims = {
        {"node", next.node}, {"seq", next.seq}, {"hash", next.hash}, {"time", next.time}};
    Result<std::string> jws = auth::SignJws(signing_key, claims.dump(), kAnchorTyp);
    if (!jws.ok()) return jws.status().WithContext("audit archive: signing the anchor");
    next.jws = *jws;
    next.archived.push_back(moved);
    const std::string anchor_text = AnchorJson(next).dump(2) + "\n";
    RETURN_IF_ERROR(WriteDurably(
        archive_dir + "/ANCHOR-" + internal::SegmentName(next.seq).substr(6, 12) + ".json",
        anchor_text));
    RETURN_IF_ERROR(WriteDurably(audit_dir + "/ANCHOR.json", anchor_text));
    // 3. Only then the segment goes.
    if (::unlink(path.c_str()) != 0) return Unavailable("audit archive: cannot remove " + path);
    RETURN_IF_ERROR(SyncPath(audit_dir));
    summary.moved.push_back(std::move(moved));
    current = next;
  }
  if (summary.moved.empty() && summary.why_not.empty()) {
    summary.why_not = "only the newest segment is left (it is being written)";
  }
  summary.anchor = current;
  return summary;
}

}  // namespace oncomesh::audit
