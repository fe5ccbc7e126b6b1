#include "deid/pseudonym.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace oncomesh::deid {

std::array<uint8_t, 32> Pseudonymizer::Mac(std::string_view domain, std::string_view kind,
                                           std::string_view source_id) const {
  std::string message;
  message.reserve(domain.size() + kind.size() + source_id.size() + 2);
  message.append(domain).push_back('\0');
  message.append(kind).push_back('\0');
  message.append(source_id);
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

std::string Pseudonymizer::Pseudonym(std::string_view kind, std::string_view source_id) const {
  const auto mac = Mac("id", kind, source_id);
  return Hex(std::string_view(reinterpret_cast<const char*>(mac.data()), 16));
}

int Pseudonymizer::DateShiftDays(std::string_view individual_source_id) const {
  const auto mac = Mac("date", "Patient", individual_source_id);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | mac[static_cast<size_t>(i)];
  // 2 * kMaxShiftDays non-zero values: -365..-1, 1..365.
  const int k = static_cast<int>(v % (2 * kMaxShiftDays));
  return k < kMaxShiftDays ? k - kMaxShiftDays : k - kMaxShiftDays + 1;
}

Result<std::string> NewSecret() {
  std::string secret(kSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(kSecretBytes)) != 1) {
    return Internal("deid: the system's random generator failed");
  }
  return secret;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace oncomesh::deid
