// What an interrupted ingest leaves in a node folder, and the lock that tells it apart from
// what a running one is writing.
//
// An ingest writes its files (de-identified DICOM instances, kept VCF copies) before the store
// transaction that references them commits; killed in between, it leaves files no row names.
// Each kind of writer holds NODE/<name>.lock shared while it may write such files. A sweep
// takes the same lock exclusively, without waiting: when it gets it, no writer is running, and
// every file of the folder that the store does not reference is a leftover.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "node/node_dir.h"
#include "util/status.h"

namespace oncomesh::node {

// NODE/<name>.lock (created 0600 if absent) opened and flock()ed with `operation` (LOCK_SH,
// LOCK_EX, optionally | LOCK_NB). The descriptor to close() to unlock, or -1 when LOCK_NB was
// asked and another process holds a conflicting lock.
Result<int> LockWriters(const NodeDir& node, const std::string& name, int operation);

// Removes every regular file under NODE/<folder> (recursively) whose path relative to the node
// directory ("dicom/ab/ab12….dcm") is not in `kept`, and every temporary file (a "tmp-" name)
// whatever `kept` says. Call with the folder's writer lock held exclusively. The count removed.
int64_t RemoveUnreferenced(const NodeDir& node, const std::string& folder,
                           const std::set<std::string>& kept);

}  // namespace oncomesh::node
