// Test support: suites with a shared setup that can fail.
//
// gtest skips every test of a suite whose SetUpTestSuite recorded a failure, and ctest counts
// those skips as passes ("100% tests passed"): a suite that never started looked green.
// SuiteFixture runs the derived fixture's `static void SetUpSuite()` with its failures kept
// instead of reported (ASSERT_*, EXPECT_*, ADD_FAILURE, GTEST_SKIP and exceptions), and every
// test of the suite then fails in SetUp() with them. At the end of each test, every Beacon
// answer it received through FetchBeacon is validated against its schema (beacon_bodies.h). A
// fixture with its own SetUp() or TearDown() must call SuiteFixture<...>'s too.
//
//   class BeaconApiTest : public SuiteFixture<BeaconApiTest> {
//     friend class SuiteFixture<BeaconApiTest>;  // calls SetUpSuite
//    protected:
//     static void SetUpSuite() { ASSERT_EQ(RunCommand(...), 0); ... }
//   };
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "support/beacon_bodies.h"

namespace oncomesh::testing {

// Runs `body` with every gtest failure and skip it records (on any thread) intercepted;
// returns them as "file:line: message" lines, "" when there were none. An exception that
// escapes `body` is one more line.
std::string RunKeepingFailures(const std::function<void()>& body);

template <typename Suite>
class SuiteFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    SetupError() = RunKeepingFailures([] { Suite::SetUpSuite(); });
  }

 protected:
  void SetUp() override {
    DiscardCollectedBeaconBodies();
    if (!SetupError().empty()) FAIL() << "the suite's setup (SetUpSuite) failed:\n" << SetupError();
  }
  // Every Beacon answer the test received through FetchBeacon validates (beacon_bodies.h).
  void TearDown() override {
    EXPECT_EQ(ValidateCollectedBeaconBodies(), "") << "Beacon answers that do not validate";
  }

 private:
  static std::string& SetupError() {
    static std::string error;
    return error;
  }
};

}  // namespace oncomesh::testing
