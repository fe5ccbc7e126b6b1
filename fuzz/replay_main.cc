// The corpus replay: runs one fuzz target over files, once each, without libFuzzer. ctest runs
// it over each committed corpus (fuzz/corpus/<target>/), so every build (Release, Asan) checks
// that the inputs that once mattered still parse without a crash; scripts/fuzz.sh does the
// fuzzing itself.
//
//   fuzz_replay TARGET PATH...   PATH: a file, or a folder whose regular files are replayed
//
// Exit status 0 when every input ran; 1 when a path is missing or no input was found (an empty
// corpus would make the test pass vacuously); a crash is the target's own.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET PATH...\n");
    return 1;
  }
  const oncomesh::fuzz::TargetFn target = oncomesh::fuzz::FindTarget(argv[1]);
  if (target == nullptr) {
    std::fprintf(stderr, "fuzz_replay: no target named '%s'\n", argv[1]);
    return 1;
  }
  std::vector<fs::path> inputs;
  for (int i = 2; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i])) {
        if (e.is_regular_file()) inputs.push_back(e.path());
      }
    } else if (fs::is_regular_file(argv[i], ec)) {
      inputs.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "fuzz_replay: %s is neither a file nor a folder\n", argv[i]);
      return 1;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz_replay: no input files\n");
    return 1;
  }
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "fuzz_replay: %s %s (%zu bytes)\n", argv[1], path.c_str(), bytes.size());
    target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "fuzz_replay: %s: %zu inputs ran\n", argv[1], inputs.size());
  return 0;
}
