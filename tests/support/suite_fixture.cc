#include "support/suite_fixture.h"

#include <gtest/gtest-spi.h>

#include <exception>

namespace oncomesh::testing {

std::string RunKeepingFailures(const std::function<void()>& body) {
  ::testing::TestPartResultArray results;
  std::string errors;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS, &results);
    try {
      body();
    } catch (const std::exception& e) {
      errors += std::string("exception: ") + e.what() + "\n";
    } catch (...) {
      errors += "an exception that is not a std::exception\n";
    }
  }
  for (int i = 0; i < results.size(); ++i) {
    const ::testing::TestPartResult& r = results.GetTestPartResult(i);
    if (r.type() == ::testing::TestPartResult::kSuccess) continue;
    errors += std::string(r.file_name() != nullptr ? r.file_name() : "?") + ":" +
              std::to_string(r.line_number()) + ": " + (r.skipped() ? "skipped: " : "") +
              r.message() + "\n";
  }
  return errors;
}

}  // namespace oncomesh::testing
