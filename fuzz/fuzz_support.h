// What the fuzz targets share (docs/fuzzing.md): the entry-point macro, a node with a small
// synthetic cohort to run requests against, and the checks every target makes.
//
// A target is written once, as
//
//   ONCOMESH_FUZZ_TARGET(beacon_post) { ...data, size...; return 0; }
//
// and built two ways: with ONCOMESH_LIBFUZZER (fuzz/CMakeLists.txt, -DONCOMESH_FUZZ=ON) it is
// libFuzzer's LLVMFuzzerTestOneInput; otherwise it registers itself under its name in the
// corpus replay program (fuzz/replay_main.cc), which ctest runs over fuzz/corpus/<name>/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "index/cohort_index.h"
#include "index/vocabulary.h"
#include "node/node_dir.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

// Registers a target for the replay program; returns true (for a static initialiser).
bool RegisterTarget(const char* name, TargetFn fn);
// The registered target of that name, or nullptr.
TargetFn FindTarget(std::string_view name);

// A node made once per process in a temporary directory (removed at exit): node.yaml's
// defaults, a synthetic cohort of 60 individuals ingested (FHIR, a VCF of 20 genomes, two DICOM
// studies), and its cohort index. Aborts when it cannot be made: a fuzz run without it would
// test nothing.
struct FuzzNode {
  std::string dir;       // the temporary directory (node at dir + "/node")
  std::string site_dir;  // the synthetic site's files (dir + "/site")
  std::unique_ptr<node::NodeDir> node;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<index::Vocabulary> vocabulary;
  std::unique_ptr<index::CohortIndex> index;
};
FuzzNode& SharedNode();

// An empty node in a temporary directory of its own (removed at exit), for the ingest targets.
struct EmptyNode {
  std::string dir;  // the temporary directory (node at dir + "/node")
  std::unique_ptr<node::NodeDir> node;
  std::unique_ptr<store::Store> store;
};
EmptyNode& SharedEmptyNode();

// Writes `size` bytes to `path` (replacing it); aborts on failure.
void WriteFile(const std::string& path, const uint8_t* data, size_t size);

// The invariant every parser keeps: a refusal says what was wrong. Aborts (a finding) when a
// non-OK status has an empty message.
void CheckRefusal(const Status& status, std::string_view what);

// Aborts with `message` on stderr: libFuzzer and the replay both report it as a crash.
[[noreturn]] void Fail(std::string_view message);

}  // namespace oncomesh::fuzz

#ifdef ONCOMESH_LIBFUZZER
#define ONCOMESH_FUZZ_ENTRY(name)                                           \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    return name##_FuzzOne(data, size);                                      \
  }
#else
#define ONCOMESH_FUZZ_ENTRY(name)                        \
  [[maybe_unused]] static const bool name##_registered = \
      ::oncomesh::fuzz::RegisterTarget(#name, name##_FuzzOne);
#endif

// Work done once before the first input, e.g. ONCOMESH_FUZZ_INITIALIZE { fuzz::SharedNode(); }:
// under libFuzzer it is LLVMFuzzerInitialize, so the seconds it takes do not count against the
// first input's -timeout; the replay does it lazily (the function is not called).
#ifdef ONCOMESH_LIBFUZZER
#define ONCOMESH_FUZZ_INITIALIZE                                 \
  static void FuzzInitialize();                                  \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) { \
    (void)argc;                                                  \
    (void)argv;                                                  \
    FuzzInitialize();                                            \
    return 0;                                                    \
  }                                                              \
  static void FuzzInitialize()
#else
#define ONCOMESH_FUZZ_INITIALIZE [[maybe_unused]] static void FuzzInitialize()
#endif

#define ONCOMESH_FUZZ_TARGET(name)                             \
  static int name##_FuzzOne(const uint8_t* data, size_t size); \
  ONCOMESH_FUZZ_ENTRY(name)                                    \
  static int name##_FuzzOne(const uint8_t* data, size_t size)
