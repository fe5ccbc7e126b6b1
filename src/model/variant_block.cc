#include "model/variant_block.h"

#include <array>
#include <vector>

namespace oncomesh::model {
namespace {

constexpr std::string_view kMagic = "OMVB\x01";
// Type codes 1..5; 0 means "written out".
constexpr std::array<std::string_view, 6> kTypes = {"", "SNP", "MNP", "INS", "DEL", "INDEL"};

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutSigned(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void PutBytes(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Reads a block front to back; the first error sticks and stops further reads.
class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return p_ == end_; }

  void Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
    p_ = end_;
  }

  uint64_t Varint(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        Fail(std::string("truncated ") + what);
        return 0;
      }
      const auto byte = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
    Fail(std::string("overlong number in ") + what);
    return 0;
  }

  int64_t Signed(const char* what) {
    const uint64_t v = Varint(what);
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }

  std::string_view Bytes(const char* what) {
    const uint64_t n = Varint(what);
    if (!ok()) return {};
    if (n > static_cast<uint64_t>(end_ - p_)) {
      Fail(std::string("truncated ") + what);
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }

  std::string_view Raw(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) {
      Fail("truncated header");
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }

 private:
  const char* p_;
  const char* end_;
  std::string error_;
};

}  // namespace

VariantBlockEncoder::VariantBlockEncoder(std::string assembly) : assembly_(std::move(assembly)) {}

void VariantBlockEncoder::Add(std::string_view chrom, int64_t position, int64_t end,
                              std::string_view ref, std::string_view alt,
                              std::string_view variant_type,
                              std::span<const VariantCarrier> carriers) {
  if (variants_ > 0 && chrom == last_chrom_) {
    PutVarint(body_, 0);
  } else {
    PutVarint(body_, chrom.size() + 1);
    body_.append(chrom);
    last_chrom_.assign(chrom);
  }
  PutSigned(body_, position - last_position_);
  last_position_ = position;
  PutSigned(body_, end - position);
  PutBytes(body_, ref);
  PutBytes(body_, alt);
  size_t type = 0;
  for (size_t i = 1; i < kTypes.size(); ++i) {
    if (kTypes[i] == variant_type) type = i;
  }
  PutVarint(body_, type);
  if (type == 0) PutBytes(body_, variant_type);
  size_t kept = 0;
  for (size_t i = 0; i < carriers.size(); ++i) {
    kept += i == 0 || carriers[i].column > carriers[i - 1].column;
  }
  PutVarint(body_, kept);
  // Carriers are most of a block: written through a pointer into room made for them.
  const size_t start = body_.size();
  body_.resize(start + carriers.size() * 10);
  char* out = body_.data() + start;
  uint32_t next = 0;  // smallest column the next carrier may have
  for (size_t i = 0; i < carriers.size(); ++i) {
    const VariantCarrier& c = carriers[i];
    if (i > 0 && c.column <= carriers[i - 1].column) continue;
    const uint64_t flags =
        (c.origin == VariantOrigin::kSomatic ? 4u : 0u) | static_cast<uint64_t>(c.zygosity);
    uint64_t v = (static_cast<uint64_t>(c.column - next) << 3) | flags;
    while (v >= 0x80) {
      *out++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *out++ = static_cast<char>(v);
    next = c.column + 1;
  }
  body_.resize(static_cast<size_t>(out - body_.data()));
  ++variants_;
}

std::string VariantBlockEncoder::Take() {
  std::string out;
  Take(&out);
  return out;
}

void VariantBlockEncoder::Take(std::string* out) {
  out->clear();
  out->append(kMagic);
  PutBytes(*out, assembly_);
  PutVarint(*out, variants_);
  out->append(body_);
  body_.clear();
  variants_ = 0;
  last_chrom_.clear();
  last_position_ = 0;
}

Status DecodeVariantBlock(
    std::string_view data,
    const std::function<void(const Variant&, std::span<const VariantCarrier>)>& fn) {
  Reader in(data);
  if (in.Raw(kMagic.size()) != kMagic) {
    return DataLoss("variant block: not a version-1 variant block (bad magic or version)");
  }
  Variant v;
  v.assembly = std::string(in.Bytes("assembly"));
  const uint64_t count = in.Varint("variant count");
  std::vector<VariantCarrier> carriers;
  uint64_t i = 0;
  for (; i < count && in.ok(); ++i) {
    const uint64_t chrom = in.Varint("chromosome");
    if (chrom > 0) {
      v.chrom = std::string(in.Raw(chrom - 1));
    } else if (i == 0) {
      in.Fail("no chromosome on the first variant");
    }
    // Wrapping sums: corrupt deltas make a nonsense position (refused below), not overflow.
    v.position = static_cast<int64_t>(static_cast<uint64_t>(v.position) +
                                      static_cast<uint64_t>(in.Signed("position")));
    v.end = static_cast<int64_t>(static_cast<uint64_t>(v.position) +
                                 static_cast<uint64_t>(in.Signed("end")));
    v.ref = std::string(in.Bytes("ref"));
    v.alt = std::string(in.Bytes("alt"));
    const uint64_t type = in.Varint("type");
    if (type >= kTypes.size()) {
      in.Fail("unknown variant type code " + std::to_string(type));
    } else {
      v.variant_type = type > 0 ? std::string(kTypes[type]) : std::string(in.Bytes("type"));
    }
    const uint64_t n = in.Varint("carrier count");
    carriers.clear();
    uint64_t next = 0;
    for (uint64_t k = 0; k < n && in.ok(); ++k) {
      const uint64_t c = in.Varint("carrier");
      const uint64_t column = next + (c >> 3);
      const uint64_t zygosity = c & 3;
      if (zygosity == 0 || column > UINT32_MAX) {
        in.Fail("bad carrier");
        break;
      }
      carriers.push_back({static_cast<uint32_t>(column), static_cast<Zygosity>(zygosity),
                          c & 4 ? VariantOrigin::kSomatic : VariantOrigin::kGermline});
      next = column + 1;
    }
    if (!in.ok()) break;
    if (v.position < 1 || v.end < v.position - 1 || v.ref.empty() || v.alt.empty()) {
      in.Fail("variant without a position, ref or alt");
      break;
    }
    v.id = VariantId(v.assembly, v.chrom, v.position, v.ref, v.alt);
    fn(v, carriers);
  }
  if (in.ok() && !in.at_end()) {
    return DataLoss("variant block: bytes after the last of its " + std::to_string(count) +
                    " variants");
  }
  if (!in.ok()) {
    return DataLoss("variant block: " + in.error() + " (variant " + std::to_string(i + 1) + " of " +
                    std::to_string(count) + ")");
  }
  return Status::Ok();
}

}  // namespace oncomesh::model
