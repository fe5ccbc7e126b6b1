#include "deid/pseudonym.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <thread>

namespace oncomesh::deid {
namespace {

// The definition in pseudonym.h, computed with OpenSSL's one-shot HMAC().
std::string Reference(const std::string& secret, const std::string& message, size_t bytes) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return Hex(std::string_view(reinterpret_cast<const char*>(out), bytes));
}

TEST(PseudonymizerTest, PseudonymIsTheDocumentedHmacOnEveryThreadAndForEverySecret) {
  const std::string a(kSecretBytes, 'a'), b(kSecretBytes, 'b');
  Pseudonymizer pa(a), pb(b);
  auto check = [&] {
    for (int i = 0; i < 100; ++i) {
      const std::string id = "patient-" + std::to_string(i);
      EXPECT_EQ(pa.Pseudonym("Patient", id),
                Reference(a, std::string("id\0Patient\0", 11) + id, 16));
      EXPECT_EQ(pb.Pseudonym("Condition", id),
                Reference(b, std::string("id\0Condition\0", 13) + id, 16));
    }
  };
  check();
  std::thread t(check);
  t.join();
  const Pseudonymizer copy = pa;
  EXPECT_EQ(copy.Pseudonym("Patient", "x"), pa.Pseudonym("Patient", "x"));
  const int shift = pa.DateShiftDays("x");
  EXPECT_NE(shift, 0);
  EXPECT_LE(std::abs(shift), kMaxShiftDays);
}

}  // namespace
}  // namespace oncomesh::deid
