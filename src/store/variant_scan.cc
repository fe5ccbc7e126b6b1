// ScanStoredVariants (store.h): the store's variant blocks as variants with calls.
#include <map>
#include <utility>

#include "model/variant_block.h"
#include "store/store.h"

namespace oncomesh::store {

Status ScanStoredVariants(
    Store& store,
    const std::function<void(const model::Variant&, const std::vector<model::VariantCall>&)>& fn) {
  std::map<std::pair<std::string, uint32_t>, model::VariantSample> samples;
  Status lookup = Status::Ok();
  RETURN_IF_ERROR(store.ScanVariantSamples(0, [&](Seq, const model::VariantSample& s) {
    Result<bool> known = store.HasIndividual(s.individual_id);
    if (!known.ok()) lookup = known.status();
    if (known.ok() && *known) samples[{s.file_id, s.column}] = s;
  }));
  RETURN_IF_ERROR(lookup);
  Status status = Status::Ok();
  std::vector<model::VariantCall> calls;
  RETURN_IF_ERROR(store.ScanVariantBlocks(0, [&](Seq, const model::VariantBlock& block) {
    if (!status.ok()) return;
    status = model::DecodeVariantBlock(
        block.data, [&](const model::Variant& v, std::span<const model::VariantCarrier> carriers) {
          calls.clear();
          for (const model::VariantCarrier& c : carriers) {
            const auto it = samples.find({block.file_id, c.column});
            if (it == samples.end()) continue;
            calls.push_back(
                {v.id, it->second.individual_id, it->second.biosample_id, c.zygosity, c.origin});
          }
          fn(v, calls);
        });
    if (!status.ok()) status = status.WithContext("variant file " + block.file_id);
  }));
  return status;
}

}  // namespace oncomesh::store
