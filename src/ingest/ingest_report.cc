#include "ingest/ingest_report.h"

namespace oncomesh::ingest {

int64_t IngestReport::FilesFailed() const {
  int64_t n = 0;
  for (const FileOutcome& f : files) n += f.status.ok() ? 0 : 1;
  return n;
}

int64_t IngestReport::RecordsAdded() const {
  int64_t n = 0;
  for (const FileOutcome& f : files) n += f.records_added;
  return n;
}

}  // namespace oncomesh::ingest
