// JWS verification against tokens signed by OpenSSL directly (an independent signer: keys made
// here, at test time), and our signer checked by OpenSSL's verifier.
#include "auth/jose.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>

#include "support/openssl_signer.h"

namespace oncomesh::auth {
namespace {

using nlohmann::json;
using oncomesh::testing::OpenSslKey;

const char* kClaims =
    R"({"iss":"https://broker.example.org","sub":"researcher-1","exp":4102444800})";

TEST(JoseTest, VerifiesTokensSignedByOpenSsl) {
  for (const char* alg : {"RS256", "ES256"}) {
    SCOPED_TRACE(alg);
    OpenSslKey key = OpenSslKey::Generate(alg);
    const std::string token = key.Sign(json{{"alg", alg}, {"typ", "JWT"}, {"kid", "k1"}}, kClaims);
    Result<Jwk> jwk = Jwk::Parse(key.PublicJwk("k1"));
    ASSERT_TRUE(jwk.ok()) << jwk.status().ToString();
    EXPECT_FALSE(jwk->has_private());
    EXPECT_TRUE(VerifyJws(token, *jwk).ok()) << VerifyJws(token, *jwk).ToString();
    Result<JwsParts> parts = DecodeJws(token);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->alg, alg);
    EXPECT_EQ(parts->kid, "k1");
    EXPECT_EQ(parts->payload["sub"], "researcher-1");

    // Another key of the same type does not verify it.
    OpenSslKey other = OpenSslKey::Generate(alg);
    Status st = VerifyJws(token, *Jwk::Parse(other.PublicJwk("k1")));
    EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
    EXPECT_NE(st.message().find("does not verify"), std::string::npos) << st.message();

    // A payload changed after signing does not verify.
    const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
    const std::string forged_payload =
        Base64UrlEncode(R"({"iss":"https://broker.example.org","sub":"admin","exp":4102444800})");
    const std::string forged = token.substr(0, dot1 + 1) + forged_payload + token.substr(dot2);
    EXPECT_EQ(VerifyJws(forged, *jwk).code(), StatusCode::kUnauthenticated);
  }
}

TEST(JoseTest, RefusesNoneHmacAndAlgorithmsOfAnotherKeyType) {
  OpenSslKey rsa = OpenSslKey::Generate("RS256");
  Jwk rsa_jwk = *Jwk::Parse(rsa.PublicJwk("k1"));
  const std::string header_none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  const std::string body = Base64UrlEncode(kClaims);
  Status st = VerifyJws(header_none + "." + body + ".", rsa_jwk);
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(st.message().find("\"none\" is refused"), std::string::npos) << st.message();

  // HS256 keyed with the public key's bytes (the classic confusion attack) is refused.
  const std::string header_hs = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
  const std::string input = header_hs + "." + body;
  const std::string secret = rsa.PublicJwk("k1").dump();
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  st = VerifyJws(input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len)),
                 rsa_jwk);
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(st.message().find("HS256"), std::string::npos) << st.message();

  // An ES256 token is not checked with an RSA key, whatever its signature.
  OpenSslKey ec = OpenSslKey::Generate("ES256");
  const std::string es_token = ec.Sign(json{{"alg", "ES256"}, {"kid", "k1"}}, kClaims);
  st = VerifyJws(es_token, rsa_jwk);
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(st.message().find("does not fit key"), std::string::npos) << st.message();
}

TEST(JoseTest, OurSignatureVerifiesWithOpenSsl) {
  Result<Jwk> key = Jwk::GenerateEs256();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(key->has_private());
  Result<std::string> token = SignJws(*key, kClaims);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(OpenSslKey::VerifyWithJwk(*token, key->PublicJson()));
  EXPECT_TRUE(VerifyJws(*token, *Jwk::Parse(key->PublicJson())).ok());
  // The private key file round-trips.
  Result<Jwk> reread = Jwk::ParseText(key->PrivateJsonText());
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->kid(), key->kid());
  EXPECT_TRUE(reread->has_private());
  // A public key cannot sign.
  EXPECT_EQ(SignJws(*Jwk::Parse(key->PublicJson()), kClaims).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(JoseTest, ThumbprintIsTheOneOfRfc7638) {
  // RFC 7638 section 3.1: the example RSA key and its SHA-256 thumbprint.
  const json jwk = {{"kty", "RSA"},
                    {"e", "AQAB"},
                    {"n",
                     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuh"
                     "DR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
                     "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
                     "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
                     "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                     "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kE"
                     "gU8awapJzKnqDKgw"},
                    {"alg", "RS256"},
                    {"kid", "2011-04-29"}};
  Result<std::string> thumbprint = JwkThumbprint(jwk);
  ASSERT_TRUE(thumbprint.ok()) << thumbprint.status().ToString();
  EXPECT_EQ(*thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JoseTest, RefusesWeakOrUnsupportedKeysAndMalformedTokens) {
  EXPECT_NE(Jwk::Parse(OpenSslKey::Generate("RS256", 1024).PublicJwk("k"))
                .status()
                .message()
                .find("2048"),
            std::string::npos);
  EXPECT_NE(Jwk::Parse(json{{"kty", "oct"}, {"k", "c2VjcmV0"}}).status().message().find("only RSA"),
            std::string::npos);
  EXPECT_NE(Jwk::Parse(json{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}})
                .status()
                .message()
                .find("P-256"),
            std::string::npos);
  EXPECT_EQ(DecodeJws("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeJws("a.b.c.d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(DecodeJws("e30.e30.!!").status().message().find("signature"), std::string::npos);
  EXPECT_NE(DecodeJws("W10.e30.").status().message().find("header is not a JSON object"),
            std::string::npos);
  EXPECT_NE(DecodeJws(std::string(20000, 'a')).status().message().find("over the limit"),
            std::string::npos);
  const std::string crit = Base64UrlEncode(R"({"alg":"ES256","crit":["exp"]})") + ".e30.";
  EXPECT_NE(DecodeJws(crit).status().message().find("crit"), std::string::npos);
}

}  // namespace
}  // namespace oncomesh::auth
