#include "util/json.h"

#include <gtest/gtest.h>

#include <string>

namespace oncomesh {
namespace {

std::string Nested(size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

TEST(ParseJsonTest, ParsesWithinTheLimits) {
  Result<nlohmann::json> j = ParseJson(R"({"a": [1, {"b": "ü"}]})", "body");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["a"][1]["b"], "ü");
  // Exactly at the depth limit is fine, one more is not.
  EXPECT_TRUE(ParseJson(Nested(5), "body", {5, 1000}).ok());
  EXPECT_FALSE(ParseJson(Nested(6), "body", {5, 1000}).ok());
}

TEST(ParseJsonTest, RefusesDeepNestingWithOffsetAndPointer) {
  const std::string text =
      R"({"query": {"requestParameters": {"a/b": [0, )" + Nested(100000) + "]}}}";
  Result<nlohmann::json> j = ParseJson(text, "request body");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument);
  // The 65th level opens at the 61st '[' of the nested run; the pointer escapes '/' as ~1.
  const size_t run = text.find("[[");
  EXPECT_EQ(
      j.status().message(), "request body: JSON nested deeper than 64 levels at byte " +
                                std::to_string(run + 60) + " (/query/requestParameters/a~1b/1" +
                                [] {
                                  std::string p;
                                  for (int i = 0; i < 60; ++i) p += "/0";
                                  return p;
                                }() +
                                ")");
}

TEST(ParseJsonTest, BracketsInsideStringsDoNotCount) {
  const std::string text = "[\"" + std::string(1000, '[') + "\\\"{{{\"]";
  Result<nlohmann::json> j = ParseJson(text, "body", {2, 1 << 20});
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)[0].get<std::string>().size(), 1004u);
}

TEST(ParseJsonTest, RefusesOversizedText) {
  Result<nlohmann::json> j = ParseJson("[1,2,3]", "node answer", {64, 6});
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), "node answer: 7 bytes of JSON, more than the 6 allowed");
}

TEST(ParseJsonTest, NamesTheByteOfASyntaxError) {
  Result<nlohmann::json> j = ParseJson(R"({"a": tru})", "body");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message().rfind("body: not valid JSON at byte 9: syntax error", 0), 0u)
      << j.status().message();
  Result<nlohmann::json> bad_utf8 = ParseJson("[\"a\xff\"]", "body");
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_NE(bad_utf8.status().message().find("UTF-8"), std::string::npos)
      << bad_utf8.status().message();
  EXPECT_FALSE(ParseJson("", "body").ok());
  EXPECT_FALSE(ParseJson("[1] [2]", "body").ok());
}

// JSON's grammar allows numbers no double holds; nlohmann throws out_of_range for them, which
// escaped ParseJson until the fuzzer sent 14075E400 (fuzz/corpus/beacon_post/).
TEST(ParseJsonTest, ANumberTooLargeForADoubleIsRefusedNotThrown) {
  for (const char* text :
       {R"({"query":{"filters":[{"id":"x","value":14075E400}]}})", "-1e999", "[1E400]"}) {
    Result<nlohmann::json> r = ParseJson(text, "request body", {});
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("request body: number overflow parsing"), std::string::npos)
        << r.status().message();
  }
}

TEST(CheckUtf8Test, FindsTheFirstInvalidByte) {
  EXPECT_TRUE(CheckUtf8("plain ascii, é, 漢, 😀", "x").ok());
  const struct {
    std::string text;
    size_t offset;
  } cases[] = {
      {"ab\xff", 2},            // never valid
      {"a\xc3", 1},             // truncated
      {"\xc0\xaf", 0},          // overlong '/'
      {"xy\xed\xa0\x80", 2},    // surrogate U+D800
      {"\xf4\x90\x80\x80", 0},  // above U+10FFFF
      {"ok \xe2\x82", 3},       // truncated three-byte form
  };
  for (const auto& c : cases) {
    const Status s = CheckUtf8(c.text, "filters");
    ASSERT_FALSE(s.ok()) << c.offset;
    EXPECT_EQ(s.message(), "filters: invalid UTF-8 at byte " + std::to_string(c.offset));
  }
}

TEST(JsonTypeNameTest, NamesEachType) {
  EXPECT_STREQ(JsonTypeName(nlohmann::json::object()), "object");
  EXPECT_STREQ(JsonTypeName(nlohmann::json::array()), "array");
  EXPECT_STREQ(JsonTypeName("x"), "string");
  EXPECT_STREQ(JsonTypeName(1.5), "number");
  EXPECT_STREQ(JsonTypeName(-1), "number");
  EXPECT_STREQ(JsonTypeName(true), "boolean");
  EXPECT_STREQ(JsonTypeName(nullptr), "null");
}

}  // namespace
}  // namespace oncomesh
