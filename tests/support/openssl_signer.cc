#include "support/openssl_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace oncomesh::testing {

using nlohmann::json;

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "openssl_signer: %s failed\n", what);
  std::abort();
}

std::string B64Url(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string FromB64Url(const std::string& text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) return "";
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string BnBytes(const BIGNUM* bn, int width = 0) {
  const int n = width ? width : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n) < 0) Die("BN_bn2binpad");
  return out;
}

BIGNUM* GetBn(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) Die(name);
  return bn;
}

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// A public EVP_PKEY from a JWK (RSA or EC P-256), built with OpenSSL 3's parameter API.
std::shared_ptr<EVP_PKEY> FromJwk(const json& jwk) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  const bool rsa = jwk.at("kty") == "RSA";
  std::vector<BIGNUM*> bns;
  std::string point;
  if (rsa) {
    const std::string n = FromB64Url(jwk.at("n")), e = FromB64Url(jwk.at("e"));
    bns.push_back(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                            static_cast<int>(n.size()), nullptr));
    bns.push_back(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                            static_cast<int>(e.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bns[0]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bns[1]);
  } else {
    point = "\x04" + FromB64Url(jwk.at("x")) + FromB64Url(jwk.at("y"));
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, rsa ? "RSA" : "EC", nullptr);
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    Die("EVP_PKEY_fromdata");
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* bn : bns) BN_free(bn);
  return Own(key);
}

}  // namespace

OpenSslKey OpenSslKey::Generate(const std::string& alg, int bits) {
  OpenSslKey k;
  k.alg_ = alg;
  EVP_PKEY* key = alg == "RS256"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) Die("EVP_PKEY_Q_keygen");
  k.key_ = Own(key);
  return k;
}

json OpenSslKey::PublicJwk(const std::string& kid) const {
  EVP_PKEY* key = key_.get();
  if (alg_ == "RS256") {
    BIGNUM* n = GetBn(key, OSSL_PKEY_PARAM_RSA_N);
    BIGNUM* e = GetBn(key, OSSL_PKEY_PARAM_RSA_E);
    json j = {{"kty", "RSA"}, {"kid", kid}, {"n", B64Url(BnBytes(n))}, {"e", B64Url(BnBytes(e))}};
    BN_free(n);
    BN_free(e);
    return j;
  }
  BIGNUM* x = GetBn(key, OSSL_PKEY_PARAM_EC_PUB_X);
  BIGNUM* y = GetBn(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  json j = {{"kty", "EC"},
            {"crv", "P-256"},
            {"kid", kid},
            {"x", B64Url(BnBytes(x, 32))},
            {"y", B64Url(BnBytes(y, 32))}};
  BN_free(x);
  BN_free(y);
  return j;
}

std::string OpenSslKey::Sign(const json& header, const std::string& payload) const {
  const std::string input = B64Url(header.dump()) + "." + B64Url(payload);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_.get()) <= 0 ||
      EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) <= 0) {
    Die("EVP_DigestSign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) <= 0) {
    Die("EVP_DigestSign");
  }
  sig.resize(len);
  EVP_MD_CTX_free(md);
  if (alg_ == "ES256") {
    // JWS (RFC 7518 section 3.4) wants R || S, 32 bytes each; OpenSSL gives DER.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (ecdsa == nullptr) Die("d2i_ECDSA_SIG");
    sig = BnBytes(ECDSA_SIG_get0_r(ecdsa), 32) + BnBytes(ECDSA_SIG_get0_s(ecdsa), 32);
    ECDSA_SIG_free(ecdsa);
  }
  return input + "." + B64Url(sig);
}

bool OpenSslKey::VerifyWithJwk(const std::string& token, const json& jwk) {
  const size_t dot2 = token.rfind('.');
  if (dot2 == std::string::npos) return false;
  const std::string input = token.substr(0, dot2);
  std::string sig = FromB64Url(token.substr(dot2 + 1));
  std::shared_ptr<EVP_PKEY> key = FromJwk(jwk);
  if (jwk.at("kty") == "EC") {
    if (sig.size() != 64) return false;
    ECDSA_SIG* ecdsa = ECDSA_SIG_new();
    ECDSA_SIG_set0(ecdsa,
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int der_len = i2d_ECDSA_SIG(ecdsa, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
    OPENSSL_free(der);
    ECDSA_SIG_free(ecdsa);
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key.get()) > 0 &&
      EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

}  // namespace oncomesh::testing
