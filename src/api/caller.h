// How API handlers learn who is asking: the node's passport verification and access policy
// (auth/) applied to a request's Authorization header.
#pragma once

#include <functional>

#include "auth/access.h"
#include "http/http.h"
#include "util/status.h"

namespace oncomesh::api {

// The caller of a request: anonymous without an Authorization header; from a verified GA4GH
// Passport ("Authorization: Bearer <JWT>") otherwise. Unauthenticated (with the reason) for
// credentials that are not a valid passport; Unavailable when an issuer's keys cannot be had.
using CallerFn = std::function<Result<auth::Caller>(const http::Request&)>;

}  // namespace oncomesh::api
