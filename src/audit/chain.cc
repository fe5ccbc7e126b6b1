#include "audit/internal/chain.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace oncomesh::audit::internal {

using nlohmann::json;

std::string Sha256Hex(std::string_view bytes) {
  // Fetched once: OpenSSL 3 looks EVP_sha256() up anew on every EVP_Digest call otherwise,
  // which cost as much as hashing the line.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, kSha256 != nullptr ? kSha256 : EVP_sha256(),
             nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out(static_cast<size_t>(len) * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

SealedLine Seal(const json& body) {
  // Invalid UTF-8 (a decoded path can hold any bytes) is replaced rather than thrown on: the
  // entry must be written whatever the request held.
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  SealedLine sealed;
  sealed.hash = Sha256Hex(text);
  text.pop_back();  // the closing brace
  text.append(kHashMember).append(sealed.hash).append("\"}\n");
  sealed.text = std::move(text);
  return sealed;
}

Members MembersOf(const json& object) {
  Members members;
  members.reserve(object.size());
  for (const auto& [key, value] : object.items()) {
    members.emplace_back(key, value.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return members;
}

SealedLine SealMembers(Members members) {
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t size = 2;
  for (const auto& [key, value] : members) size += key.size() + value.size() + 4;
  std::string text;
  text.reserve(size + kHashSuffixBytes + 2);
  text.push_back('{');
  for (const auto& [key, value] : members) {
    if (text.size() > 1) text.push_back(',');
    AppendJsonString(&text, key);
    text.push_back(':');
    text.append(value);
  }
  text.push_back('}');
  SealedLine sealed;
  sealed.hash = Sha256Hex(text);
  text.pop_back();
  text.append(kHashMember).append(sealed.hash).append("\"}\n");
  sealed.text = std::move(text);
  return sealed;
}

void AppendJsonString(std::string* out, std::string_view text) {
  const size_t start = out->size();
  out->push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      // Not ASCII: nlohmann's own escaping, which checks the UTF-8 and replaces what is invalid.
      out->resize(start);
      out->append(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
      return;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

namespace {

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<ParsedLine> ParseLine(std::string_view line) {
  if (line.size() < kHashSuffixBytes + 2 || line.back() != '}' ||
      line.substr(line.size() - kHashSuffixBytes, kHashMember.size()) != kHashMember ||
      line.substr(line.size() - 2) != "\"}") {
    return InvalidArgument("the line does not end with its \"hash\" member");
  }
  ParsedLine p;
  p.hash = std::string(line.substr(line.size() - kHashSuffixBytes + kHashMember.size(), 64));
  if (!IsLowerHex64(p.hash)) return InvalidArgument("\"hash\" is not 64 lowercase hex digits");
  // The covered bytes, with simdjson's padding, in a buffer reused by this thread.
  thread_local simdjson::dom::parser parser;
  thread_local std::string covered;
  const size_t covered_size = line.size() - kHashSuffixBytes + 1;
  covered.resize(covered_size + simdjson::SIMDJSON_PADDING);
  std::memcpy(covered.data(), line.data(), covered_size - 1);
  covered[covered_size - 1] = '}';
  const std::string_view bytes(covered.data(), covered_size);
  p.computed = Sha256Hex(bytes);
  simdjson::dom::object body;
  if (parser.parse(covered.data(), covered_size, /*realloc_if_needed=*/false)
          .get_object()
          .get(body) != simdjson::SUCCESS) {
    return InvalidArgument("not a JSON object");
  }
  // Every member once: readers that keep the first and those that keep the last of a repeated
  // key (Python's json) must read the same entry.
  std::vector<std::string_view> keys;
  keys.reserve(16);
  for (const auto field : body) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    return InvalidArgument("a repeated member \"" +
                           std::string(*std::adjacent_find(keys.begin(), keys.end())) + "\"");
  }
  if (std::binary_search(keys.begin(), keys.end(), "hash")) {
    return InvalidArgument("a second \"hash\" member");
  }
  uint64_t seq = 0;
  if (body["seq"].get_uint64().get(seq) != simdjson::SUCCESS || seq == 0) {
    return InvalidArgument("no \"seq\" (a positive integer)");
  }
  p.seq = seq;
  std::string_view text;
  if (body["prev"].get_string().get(text) != simdjson::SUCCESS || !IsLowerHex64(text)) {
    return InvalidArgument("no \"prev\" (64 lowercase hex digits)");
  }
  p.prev = std::string(text);
  if (body["time"].get_string().get(text) != simdjson::SUCCESS || text.size() != 24) {
    return InvalidArgument("no \"time\" (RFC 3339 UTC with milliseconds)");
  }
  p.time = std::string(text);
  if (body["type"].get_string().get(text) != simdjson::SUCCESS || text.empty()) {
    return InvalidArgument("no \"type\"");
  }
  p.type = std::string(text);
  if (body["node"].get_string().get(text) == simdjson::SUCCESS) p.node = std::string(text);
  simdjson::dom::object checkpoint;
  if (body["checkpoint"].get_object().get(checkpoint) == simdjson::SUCCESS &&
      checkpoint["jws"].get_string().get(text) == simdjson::SUCCESS) {
    p.has_checkpoint = true;
    p.checkpoint_jws = std::string(text);
    if (checkpoint["reason"].get_string().get(text) == simdjson::SUCCESS) {
      p.checkpoint_reason = std::string(text);
    }
  }
  return p;
}

unsigned VerifyThreads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 8u); }

std::vector<Result<ParsedLine>> ParseLines(const std::vector<std::string_view>& lines,
                                           unsigned threads) {
  std::vector<Result<ParsedLine>> out(lines.size(), Result<ParsedLine>(Internal("not parsed")));
  const size_t n = lines.size();
  threads =
      static_cast<unsigned>(std::min<size_t>(std::max(threads, 1u), std::max<size_t>(n / 256, 1)));
  const auto work = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) out[i] = ParseLine(lines[i]);
  };
  std::vector<std::thread> pool;
  const size_t chunk = (n + threads - 1) / threads;
  for (unsigned t = 1; t < threads; ++t) {
    pool.emplace_back(work, std::min(n, t * chunk), std::min(n, (t + 1) * chunk));
  }
  work(0, std::min(n, chunk));
  for (std::thread& t : pool) t.join();
  return out;
}

std::string SegmentName(uint64_t first_seq) {
  std::string digits = std::to_string(first_seq);
  if (digits.size() < 12) digits.insert(0, 12 - digits.size(), '0');
  return "audit-" + digits + ".jsonl";
}

std::optional<uint64_t> SegmentFirstSeq(std::string_view name) {
  constexpr std::string_view kPrefix = "audit-", kSuffix = ".jsonl";
  if (name.size() < kPrefix.size() + 12 + kSuffix.size() ||
      name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string_view digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

Result<std::vector<std::string>> ListSegments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return NotFound("cannot read " + dir + ": " + std::strerror(errno));
  std::vector<std::pair<uint64_t, std::string>> found;
  while (dirent* e = readdir(d)) {
    if (std::optional<uint64_t> seq = SegmentFirstSeq(e->d_name))
      found.emplace_back(*seq, e->d_name);
  }
  closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  names.reserve(found.size());
  for (auto& [seq, name] : found) names.push_back(std::move(name));
  return names;
}

ChainChecker::ChainChecker(const std::vector<auth::Jwk>* keys, uint64_t expect_seq,
                           std::string expect_prev)
    : keys_(keys),
      last_seq_(expect_seq == 0 ? 0 : expect_seq - 1),
      last_hash_(std::move(expect_prev)),
      started_(expect_seq != 0) {}

bool ChainChecker::Fail(ProblemKind kind, const std::string& file, int64_t line, uint64_t offset,
                        uint64_t seq, std::string message) {
  report_.problem = Problem{kind, file, line, offset, seq, std::move(message)};
  return false;
}

bool ChainChecker::FeedFile(const std::string& name, std::string_view text) {
  report_.files.push_back(name);
  // Lines first, so that a seq out of place can be looked for further on (reordered vs removed).
  struct Line {
    uint64_t offset;
    std::string_view text;
  };
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return Fail(ProblemKind::kTruncated, name, static_cast<int64_t>(lines.size()) + 1, pos, 0,
                  "the last line is incomplete (" + std::to_string(text.size() - pos) +
                      " bytes without a newline): a write cut off, or the file cut mid-line");
    }
    lines.push_back({pos, text.substr(pos, nl - pos)});
    pos = nl + 1;
  }
  // Parsing and hashing are per line: spread over the cores; the links are checked in order.
  std::vector<std::string_view> texts;
  texts.reserve(lines.size());
  for (const Line& l : lines) texts.push_back(l.text);
  std::vector<Result<ParsedLine>> parsed = ParseLines(texts, threads_);
  for (size_t i = 0; i < lines.size(); ++i) {
    ParsedLine entry;
    const int64_t line_no = static_cast<int64_t>(i) + 1;
    if (Check(name, line_no, lines[i].offset, std::move(parsed[i]), &entry)) {
      // A segment's name says its first seq; a file renamed or put in another's place shows.
      const std::optional<uint64_t> named = SegmentFirstSeq(name);
      if (i == 0 && check_segment_names_ && named && *named != entry.seq) {
        return Fail(ProblemKind::kMalformed, name, 1, 0, entry.seq,
                    "the file is named for seq " + std::to_string(*named) +
                        " but starts with seq " + std::to_string(entry.seq));
      }
      continue;
    }
    // A seq ahead of the expected one is a removal, unless the expected seq comes later in this
    // file: then the entries were reordered.
    Problem& p = *report_.problem;
    if (p.kind == ProblemKind::kRemoved) {
      for (size_t j = i + 1; j < lines.size(); ++j) {
        const Result<ParsedLine>& later = parsed[j];
        if (later.ok() && later->seq == last_seq_ + 1) {
          p.kind = ProblemKind::kReordered;
          p.message = "seq " + std::to_string(entry.seq) + " comes before seq " +
                      std::to_string(last_seq_ + 1) + " (line " + std::to_string(j + 1) +
                      "): entries were reordered";
          break;
        }
      }
    }
    return false;
  }
  return true;
}

bool ChainChecker::FeedLine(const std::string& name, int64_t line_no, uint64_t offset,
                            std::string_view line, ParsedLine* entry) {
  return Check(name, line_no, offset, ParseLine(line), entry);
}

bool ChainChecker::Check(const std::string& name, int64_t line_no, uint64_t offset,
                         Result<ParsedLine> parsed, ParsedLine* entry) {
  if (!parsed.ok()) {
    return Fail(ProblemKind::kMalformed, name, line_no, offset, 0,
                "not an audit entry: " + parsed.status().message());
  }
  *entry = std::move(*parsed);
  const ParsedLine& e = *entry;
  if (e.computed != e.hash) {
    return Fail(ProblemKind::kEdited, name, line_no, offset, e.seq,
                "the entry was edited: its content hashes to " + e.computed.substr(0, 16) +
                    "…, not to its \"hash\" " + e.hash.substr(0, 16) + "…");
  }
  if (!started_) {
    started_ = true;
    last_seq_ = e.seq - 1;
    last_hash_ = e.prev;
    report_.first_seq = e.seq;
  } else if (report_.first_seq == 0) {
    report_.first_seq = last_seq_ + 1;
  }
  const uint64_t expected = last_seq_ + 1;
  if (e.seq > expected) {
    return Fail(ProblemKind::kRemoved, name, line_no, offset, e.seq,
                "seq " + std::to_string(e.seq) + " follows seq " + std::to_string(last_seq_) +
                    ": " +
                    (e.seq - expected == 1 ? "entry " + std::to_string(expected) + " was"
                                           : "entries " + std::to_string(expected) + " to " +
                                                 std::to_string(e.seq - 1) + " were") +
                    " removed");
  }
  if (e.seq < expected) {
    return Fail(ProblemKind::kReordered, name, line_no, offset, e.seq,
                "seq " + std::to_string(e.seq) + " follows seq " + std::to_string(last_seq_) +
                    ": entries were reordered or repeated");
  }
  if (e.prev != last_hash_) {
    return Fail(ProblemKind::kPrevMismatch, name, line_no, offset, e.seq,
                "\"prev\" is not the hash of seq " + std::to_string(last_seq_) +
                    (last_seq_ == 0 ? " (the chain's start)" : "") +
                    ": the entry before it was edited and re-hashed, or replaced");
  }
  if (!last_time_.empty() && e.time < last_time_) {
    return Fail(ProblemKind::kReordered, name, line_no, offset, e.seq,
                "time " + e.time + " is before the previous entry's " + last_time_);
  }
  if (e.type == "checkpoint") {
    std::string why;
    if (!CheckCheckpoint(e, &why)) {
      return Fail(ProblemKind::kBadCheckpoint, name, line_no, offset, e.seq, "checkpoint: " + why);
    }
    ++report_.checkpoints;
    report_.last_checkpoint_seq = e.seq;
  }
  if (entry_check_) {
    if (std::optional<std::string> why = entry_check_(e)) {
      return Fail(entry_check_kind_, name, line_no, offset, e.seq, *why);
    }
  }
  last_seq_ = e.seq;
  last_hash_ = e.hash;
  last_time_ = e.time;
  ++report_.entries;
  report_.last_seq = e.seq;
  report_.last_hash = e.hash;
  if (report_.first_time.empty()) report_.first_time = e.time;
  report_.last_time = e.time;
  report_.unsigned_tail =
      report_.last_checkpoint_seq == 0 ? report_.entries : e.seq - report_.last_checkpoint_seq;
  report_.ends_with_close = e.type == "checkpoint" && e.checkpoint_reason == "close";
  return true;
}

bool ChainChecker::CheckCheckpoint(const ParsedLine& e, std::string* why) const {
  if (!e.has_checkpoint) {
    *why = R"(no "checkpoint"."jws")";
    return false;
  }
  if (keys_ == nullptr) return true;
  const std::string& token = e.checkpoint_jws;
  Result<auth::JwsParts> parts = auth::DecodeJws(token);
  if (!parts.ok()) {
    *why = parts.status().message();
    return false;
  }
  const auth::Jwk* key = nullptr;
  for (const auth::Jwk& k : *keys_) {
    if (k.kid() == parts->kid) key = &k;
  }
  if (key == nullptr) {
    *why = "signed with key \"" + parts->kid + "\", which is not among the node's keys given";
    return false;
  }
  if (Status st = auth::VerifyJws(token, *key); !st.ok()) {
    *why = "the signature does not verify with the node's key \"" + key->kid() + "\" (" +
           st.message() + ")";
    return false;
  }
  if (parts->header.value("typ", "") != kCheckpointTyp) {
    *why = "the JWS is not of typ \"" + std::string(kCheckpointTyp) + "\"";
    return false;
  }
  const json& claims = parts->payload;
  const uint64_t seq = claims.value("seq", uint64_t{0});
  if (seq + 1 != e.seq || claims.value("hash", "") != e.prev) {
    *why = "it signs seq " + std::to_string(seq) + " with hash " +
           claims.value("hash", "").substr(0, 16) +
           "…, which is not the chain before it: entries before it were changed";
    return false;
  }
  if (claims.value("time", "") != e.time || claims.value("node", "") != e.node) {
    *why = "the signed time or node is not the entry's";
    return false;
  }
  return true;
}

}  // namespace oncomesh::audit::internal
