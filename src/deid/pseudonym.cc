#include "deid/pseudonym.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <atomic>

namespace oncomesh::deid {
namespace {

std::atomic<uint64_t> next_secret_id{1};

// This thread's copy of the keyed context of the Pseudonymizer whose id is `id`.
struct ThreadMac {
  uint64_t id = 0;
  EVP_MAC_CTX* ctx = nullptr;
  ~ThreadMac() { EVP_MAC_CTX_free(ctx); }
};
thread_local ThreadMac thread_mac;

EVP_MAC_CTX* NewKeyedHmacSha256(const std::string& secret) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context holds its own reference
  if (ctx == nullptr) return nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                   params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

Pseudonymizer::Pseudonymizer(std::string secret)
    : secret_(std::move(secret)),
      keyed_(NewKeyedHmacSha256(secret_), EVP_MAC_CTX_free),
      id_(next_secret_id.fetch_add(1)) {}

std::array<uint8_t, 32> Pseudonymizer::Mac(std::string_view domain, std::string_view kind,
                                           std::string_view source_id) const {
  std::array<uint8_t, 32> out{};
  ThreadMac& t = thread_mac;
  if (keyed_ != nullptr && t.id != id_) {
    EVP_MAC_CTX_free(t.ctx);
    t.ctx = EVP_MAC_CTX_dup(keyed_.get());
    t.id = t.ctx != nullptr ? id_ : 0;
  }
  static constexpr unsigned char kZero = 0;
  // EVP_MAC_init without a key restarts with the key already set (OpenSSL 3 HMAC provider).
  if (t.id == id_ && EVP_MAC_init(t.ctx, nullptr, 0, nullptr) == 1) {
    size_t len = 0;
    const bool ok = EVP_MAC_update(t.ctx, reinterpret_cast<const unsigned char*>(domain.data()),
                                   domain.size()) == 1 &&
                    EVP_MAC_update(t.ctx, &kZero, 1) == 1 &&
                    EVP_MAC_update(t.ctx, reinterpret_cast<const unsigned char*>(kind.data()),
                                   kind.size()) == 1 &&
                    EVP_MAC_update(t.ctx, &kZero, 1) == 1 &&
                    EVP_MAC_update(t.ctx, reinterpret_cast<const unsigned char*>(source_id.data()),
                                   source_id.size()) == 1 &&
                    EVP_MAC_final(t.ctx, out.data(), &len, out.size()) == 1;
    if (ok && len == out.size()) return out;
  }
  // Fallback (no HMAC provider context could be made): the one-shot HMAC, same bytes.
  std::string message;
  message.reserve(domain.size() + kind.size() + source_id.size() + 2);
  message.append(domain).push_back('\0');
  message.append(kind).push_back('\0');
  message.append(source_id);
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
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(kSecretBytes)) !=
      1) {
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

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }
void Sha256::Update(const char* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace oncomesh::deid
