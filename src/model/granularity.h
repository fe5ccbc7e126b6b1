// Beacon v2 response granularity (framework common/beaconCommonComponents.json#Granularity).
#pragma once

namespace oncomesh::model {

enum class Granularity { kBoolean = 0, kCount = 1, kRecord = 2 };

inline const char* GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kBoolean:
      return "boolean";
    case Granularity::kCount:
      return "count";
    case Granularity::kRecord:
      return "record";
  }
  return "boolean";
}

}  // namespace oncomesh::model
