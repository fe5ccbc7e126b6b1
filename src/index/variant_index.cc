#include "index/variant_index.h"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "genomics/reference.h"

namespace oncomesh::index {
namespace {

using genomics::GenomeReference;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Beacon's variantType values (its docs list VCF-style names and EFO/SO terms for the same
// classes) as the types the ingest assigns.
std::string CanonicalType(const std::string& type) {
  const std::string t = Upper(type);
  if (t == "SNV" || t == "SO:0001483" || t == "SO:0001059") return "SNP";
  if (t == "EFO:0030067" || t == "EFO:0030068" || t == "EFO:0020073" || t == "EFO:0030069" ||
      t == "SO:0001743" || t == "SO:0000159") {
    return "DEL";
  }
  if (t == "EFO:0030070" || t == "EFO:0030071" || t == "EFO:0030072" || t == "EFO:0030073" ||
      t == "SO:0001742" || t == "SO:1000035") {
    return "DUP";
  }
  if (t == "SO:0000667") return "INS";
  if (t == "SO:1000032") return "INDEL";
  return t;
}

// Bases equal, an N in the query matching any base.
bool BasesMatch(const std::string& query, const std::string& bases) {
  if (query.size() != bases.size()) return false;
  for (size_t i = 0; i < query.size(); ++i) {
    const char q = static_cast<char>(std::toupper(static_cast<unsigned char>(query[i])));
    if (q != 'N' && q != bases[i]) return false;
  }
  return true;
}

bool IsSequence(const std::string& allele) {
  return !allele.empty() && std::all_of(allele.begin(), allele.end(), [](char c) {
    return c == 'A' || c == 'C' || c == 'G' || c == 'T' || c == 'N';
  });
}

// HGVS genomic form of a normalised VCF-style variant on a RefSeq chromosome.
std::string GenomicHgvs(const std::string& accession, const model::Variant& v) {
  if (accession.empty() || !IsSequence(v.ref) || !IsSequence(v.alt)) return "";
  const std::string g = accession + ":g.";
  const int64_t p = v.position;
  if (v.ref.size() == 1 && v.alt.size() == 1) return g + std::to_string(p) + v.ref + ">" + v.alt;
  if (v.alt.size() == 1 && v.ref[0] == v.alt[0]) {  // deletion after an anchor base
    const int64_t first = p + 1, last = p + static_cast<int64_t>(v.ref.size()) - 1;
    return g +
           (first == last ? std::to_string(first)
                          : std::to_string(first) + "_" + std::to_string(last)) +
           "del";
  }
  if (v.ref.size() == 1 && v.alt[0] == v.ref[0]) {  // insertion after an anchor base
    return g + std::to_string(p) + "_" + std::to_string(p + 1) + "ins" + v.alt.substr(1);
  }
  const int64_t last = p + static_cast<int64_t>(v.ref.size()) - 1;
  return g + (last == p ? std::to_string(p) : std::to_string(p) + "_" + std::to_string(last)) +
         "delins" + v.alt;
}

// "NM_004985.5:c.34G>T" without the accession's version, to compare forms that differ only in it.
std::string WithoutVersion(const std::string& hgvs) {
  const size_t colon = hgvs.find(':');
  const size_t dot = hgvs.find('.');
  if (colon == std::string::npos || dot == std::string::npos || dot > colon) return hgvs;
  return hgvs.substr(0, dot) + hgvs.substr(colon);
}

int64_t Length(const VariantIndex::Entry& e) {
  if (!IsSequence(e.variant.ref) || !IsSequence(e.variant.alt)) return e.end0 - e.start0;
  return static_cast<int64_t>(std::max(e.variant.ref.size(), e.variant.alt.size()));
}

}  // namespace

bool VariantQuery::empty() const {
  return chrom.empty() && !start && !end && reference_bases.empty() && alternate_bases.empty() &&
         variant_type.empty() && gene.empty() && aminoacid_change.empty() && hgvs.empty() &&
         !min_length && !max_length;
}

uint32_t VariantIndex::AddVariant(const model::Variant& v) {
  const auto [it, added] = by_id_.try_emplace(v.id, static_cast<uint32_t>(entries_.size()));
  if (!added) return it->second;
  Entry e;
  e.variant = v;
  e.start0 = v.position - 1;
  e.end0 = std::max<int64_t>(v.end, v.position);
  entries_.push_back(std::move(e));
  pending_calls_.emplace_back();
  return it->second;
}

uint32_t VariantIndex::BiosampleHandle(const std::string& biosample_id) {
  const auto [it, added] =
      biosample_index_.try_emplace(biosample_id, static_cast<uint32_t>(biosample_ids_.size()));
  if (added) biosample_ids_.push_back(biosample_id);
  return it->second;
}

void VariantIndex::AddCall(uint32_t variant, const Call& call) {
  pending_calls_[variant].push_back(call);
}

bool VariantIndex::AddCall(uint32_t row, const model::VariantCall& call) {
  const auto it = by_id_.find(call.variant_id);
  if (it == by_id_.end()) return false;
  AddCall(it->second, Call{row, BiosampleHandle(call.biosample_id), call.zygosity, call.origin});
  return true;
}

void VariantIndex::Finish(uint32_t num_chunks) {
  const GenomeReference& ref = GenomeReference::Get();
  std::vector<uint32_t> order(entries_.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](uint32_t i) {
    const model::Variant& v = entries_[i].variant;
    return std::tie(v.assembly, v.chrom, entries_[i].start0, entries_[i].end0, v.ref, v.alt);
  };
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  std::vector<Entry> sorted;
  sorted.reserve(entries_.size());
  for (uint32_t old : order) {
    Entry e = std::move(entries_[old]);
    std::vector<Call>& calls = pending_calls_[old];
    std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) {
      return std::tie(a.row, a.biosample) < std::tie(b.row, b.biosample);
    });
    // The same sample in two files (a re-called genome) is one call.
    calls.erase(std::unique(calls.begin(), calls.end(),
                            [](const Call& a, const Call& b) {
                              return a.row == b.row && a.biosample == b.biosample;
                            }),
                calls.end());
    calls.shrink_to_fit();
    std::vector<uint32_t> rows;
    for (const Call& c : calls) {
      if (rows.empty() || rows.back() != c.row) rows.push_back(c.row);
    }
    e.carriers.AddSorted(rows);
    e.carriers.Freeze(num_chunks);
    e.calls = std::move(calls);
    model::Variant& v = e.variant;
    if (v.gene.empty()) {
      if (const genomics::GeneSpan* g = ref.GeneAt(v.assembly, v.chrom, v.position))
        v.gene = g->symbol;
    }
    if (const genomics::KnownVariant* k =
            ref.FindKnown(v.assembly, v.chrom, v.position, v.ref, v.alt)) {
      e.protein = k->protein;
      e.hgvs_p = k->hgvs_p;
      e.hgvs_c = k->hgvs_c;
      if (v.gene.empty()) v.gene = k->gene;
    }
    e.hgvs_g = GenomicHgvs(ref.RefSeqAccession(v.assembly, v.chrom), v);
    sorted.push_back(std::move(e));
  }
  entries_ = std::move(sorted);
  pending_calls_.clear();
  std::unordered_map<std::string, uint32_t>().swap(by_id_);
  std::unordered_map<std::string, uint32_t>().swap(biosample_index_);
  contigs_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    const model::Variant& v = entries_[i].variant;
    auto [it, added] = contigs_.try_emplace({v.assembly, v.chrom}, Contig{i, i + 1, 0});
    it->second.last = i + 1;
    it->second.max_length = std::max(it->second.max_length, entries_[i].end0 - entries_[i].start0);
  }
}

std::vector<std::string> VariantIndex::assemblies() const {
  std::vector<std::string> out;
  for (const auto& [k, c] : contigs_) {
    if (out.empty() || out.back() != k.first) out.push_back(k.first);
  }
  return out;
}

bool VariantIndex::Matches(const Entry& e, const VariantQuery& q) const {
  const model::Variant& v = e.variant;
  if (!q.assembly.empty() && v.assembly != q.assembly) return false;
  if (!q.chrom.empty() && v.chrom != q.chrom) return false;
  if (q.start && q.start_max) {  // bracket
    if (e.start0 < *q.start || e.start0 > *q.start_max) return false;
    if (q.end && (e.end0 < *q.end || e.end0 > q.end_max.value_or(*q.end))) return false;
  } else if (q.start && q.end) {  // range: any overlap with [start, end)
    if (!(e.start0 < *q.end && e.end0 > *q.start)) return false;
  } else if (q.start) {  // sequence: starts there
    if (e.start0 != *q.start) return false;
  }
  if (!q.reference_bases.empty() && !BasesMatch(q.reference_bases, v.ref)) return false;
  if (!q.alternate_bases.empty() && !BasesMatch(q.alternate_bases, v.alt)) return false;
  if (!q.variant_type.empty() && CanonicalType(q.variant_type) != CanonicalType(v.variant_type))
    return false;
  if (!q.gene.empty() && Upper(q.gene) != Upper(v.gene)) return false;
  if (!q.aminoacid_change.empty()) {
    const std::string a = q.aminoacid_change;
    if (e.protein.empty()) return false;
    if (Upper(a) != Upper(e.protein) && a != e.hgvs_p && "p." + a != e.hgvs_p) return false;
  }
  if (!q.hgvs.empty()) {
    const bool g = !e.hgvs_g.empty() && q.hgvs == e.hgvs_g;
    const bool c = !e.hgvs_c.empty() && WithoutVersion(q.hgvs) == WithoutVersion(e.hgvs_c);
    if (!g && !c) return false;
  }
  const int64_t length = Length(e);
  if (q.min_length && length < *q.min_length) return false;
  if (q.max_length && length > *q.max_length) return false;
  return true;
}

Result<std::vector<uint32_t>> VariantIndex::Match(const VariantQuery& query) const {
  VariantQuery q = query;
  std::vector<uint32_t> out;
  // Gene queries without coordinates: annotated genes are matched by name (every variant in
  // a gene's span carries it); a gene the table does not know is an error, not "no variants".
  if (!q.gene.empty() && q.chrom.empty()) {
    const GenomeReference& ref = GenomeReference::Get();
    bool known = false;
    for (const std::string& assembly :
         q.assembly.empty() ? assemblies() : std::vector<std::string>{q.assembly}) {
      known = known || ref.FindGene(q.gene, assembly) != nullptr;
    }
    const bool annotated = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return Upper(e.variant.gene) == Upper(q.gene);
    });
    if (!known && !annotated && !entries_.empty()) {
      return InvalidArgument(
          "geneId: no coordinates for gene '" + q.gene + "' on " +
          (q.assembly.empty() ? std::string("this node's assemblies") : q.assembly) +
          " (data/genes/ lists the genes known)");
    }
  }
  for (const auto& [contig, c] : contigs_) {
    if (!q.assembly.empty() && contig.first != q.assembly) continue;
    if (!q.chrom.empty() && contig.second != q.chrom) continue;
    uint32_t first = c.first, last = c.last;
    // Entries are sorted by start: a variant overlapping or starting in the query window
    // starts no earlier than (window start - the longest variant here).
    if (q.start) {
      const int64_t from = (q.end && !q.start_max) ? *q.start - c.max_length : *q.start;
      first = static_cast<uint32_t>(
          std::lower_bound(entries_.begin() + c.first, entries_.begin() + c.last, from,
                           [](const Entry& e, int64_t s) { return e.start0 < s; }) -
          entries_.begin());
      const int64_t to = q.start_max ? *q.start_max : (q.end ? *q.end - 1 : *q.start);
      last = static_cast<uint32_t>(
          std::upper_bound(entries_.begin() + first, entries_.begin() + c.last, to,
                           [](int64_t s, const Entry& e) { return s < e.start0; }) -
          entries_.begin());
    }
    for (uint32_t i = first; i < last; ++i) {
      if (Matches(entries_[i], q)) out.push_back(i);
    }
  }
  return out;
}

std::shared_ptr<const Posting> VariantIndex::Carriers(const std::vector<uint32_t>& variants,
                                                      uint32_t num_chunks) const {
  auto p = std::make_shared<Posting>();
  for (uint32_t i : variants) p->OrWith(entries_[i].carriers);
  p->Freeze(num_chunks);
  return p;
}

size_t VariantIndex::SizeInBytes() const {
  size_t n = 0;
  for (const Entry& e : entries_) {
    n += sizeof(Entry) + e.carriers.SizeInBytes() + e.calls.size() * sizeof(Call) +
         e.variant.id.size() * 2;
  }
  for (const std::string& b : biosample_ids_) n += b.size() + sizeof(std::string);
  return n;
}

}  // namespace oncomesh::index
