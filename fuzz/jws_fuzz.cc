// Compact JWS and JWK text as a node meets them in bearer tokens and issuers' key sets: split and
// decoded (auth::DecodeJws), verified against a fixed ES256 key (signature and algorithm
// checks), and the same bytes as a JWK, a JWKS and base64url.
#include "auth/issuer_keys.h"
#include "auth/jose.h"
#include "fuzz_support.h"

ONCOMESH_FUZZ_TARGET(jws) {
  using namespace oncomesh;
  static const auth::Jwk* const key = [] {
    Result<auth::Jwk> k = auth::Jwk::GenerateEs256();
    if (!k.ok()) fuzz::Fail("GenerateEs256: " + k.status().ToString());
    return new auth::Jwk(std::move(*k));
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<auth::JwsParts> parts = auth::DecodeJws(text);
  fuzz::CheckRefusal(parts.status(), "DecodeJws");
  if (parts.ok() && (!parts->header.is_object() || !parts->payload.is_object())) {
    fuzz::Fail("DecodeJws accepted a header or payload that is not a JSON object");
  }
  const Status verified = auth::VerifyJws(text, *key);
  fuzz::CheckRefusal(verified, "VerifyJws");
  // Nothing but a token this key signed verifies, and the fuzzer has not got the private key.
  if (verified.ok()) fuzz::Fail("VerifyJws accepted a token not signed by the key");
  fuzz::CheckRefusal(auth::Jwk::ParseText(text).status(), "Jwk::ParseText");
  fuzz::CheckRefusal(auth::ParseJwks(text).status(), "ParseJwks");
  Result<std::string> decoded = auth::Base64UrlDecode(text);
  fuzz::CheckRefusal(decoded.status(), "Base64UrlDecode");
  // Decoding what was encoded gives it back (non-canonical encodings are accepted, so the
  // other direction is not an invariant).
  if (decoded.ok()) {
    Result<std::string> again = auth::Base64UrlDecode(auth::Base64UrlEncode(*decoded));
    if (!again.ok() || *again != *decoded) fuzz::Fail("Base64UrlEncode/Decode do not round-trip");
  }
  return 0;
}
