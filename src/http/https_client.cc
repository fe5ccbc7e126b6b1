// HTTPS GET with Boost.Beast over OpenSSL, for the few calls a node makes to the outside
// (identity providers' key sets). Written as one C++20 coroutine on its own io_context.
// clang-format off: first, since Boost 1.74's awaitable.hpp uses std::exchange without it
#include <utility>
// clang-format on
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/http.h"

namespace oncomesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

struct HttpsUrl {
  std::string host;
  std::string port = "443";
  std::string target = "/";
};

Result<HttpsUrl> ParseHttpsUrl(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return InvalidArgument("'" + url + "' is not an https:// URL");
  HttpsUrl u;
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    u.target = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string::npos)
    return InvalidArgument("'" + url + "': user information in URLs is refused");
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    u.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || u.port.empty() ||
      u.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'" + url + "' has no usable host and port");
  }
  u.host = rest;
  return u;
}

net::awaitable<void> Get(ssl::context& tls, HttpsUrl url, std::chrono::milliseconds timeout,
                         size_t max_body, Result<std::string>* out) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  // The name the certificate must carry, checked by OpenSSL's own verification (RFC 6125; an
  // IP address against the iPAddress entries) so that a mismatch is reported as such; and SNI,
  // for host names only (RFC 6066 section 3: no IP literals).
  SSL* ssl_handle = stream.native_handle();
  boost::system::error_code not_ip;
  net::ip::make_address(url.host, not_ip);
  if (!not_ip) {
    if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str())) {
      *out = Unavailable("cannot check the certificate against " + url.host);
      co_return;
    }
  } else if (!SSL_set1_host(ssl_handle, url.host.c_str()) ||
             !SSL_set_tlsext_host_name(ssl_handle, url.host.c_str())) {
    *out = Unavailable("cannot set the TLS server name " + url.host);
    co_return;
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto endpoints = co_await resolver.async_resolve(url.host, url.port, net::use_awaitable);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
  try {
    co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
  } catch (const boost::system::system_error&) {
    // Say which check failed (untrusted CA, host name, expiry…): "certificate verify failed"
    // alone does not tell an operator what to fix.
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      *out = Unavailable(std::string("TLS: certificate verify failed: ") +
                         X509_verify_cert_error_string(verify));
      co_return;
    }
    throw;
  }
  bhttp::request<bhttp::empty_body> request(bhttp::verb::get, url.target, 11);
  request.set(bhttp::field::host, url.host);
  request.set(bhttp::field::user_agent, "OncoMesh/" ONCOMESH_VERSION);
  request.set(bhttp::field::accept, "application/json");
  co_await bhttp::async_write(stream, request, net::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  // The header first: Boost 1.74's parser checks a Content-Length against body_limit when the
  // header ends, but an eager read (async_read of the whole message) that already holds body
  // bytes goes on parsing and overwrites that error, so the limit never held. async_read_header
  // is not eager. The body's size is checked again below for the same reason.
  co_await bhttp::async_read_header(stream, buffer, parser, net::use_awaitable);
  co_await bhttp::async_read(stream, buffer, parser, net::use_awaitable);
  const auto& response = parser.get();
  if (response.body().size() > max_body) {
    throw boost::system::system_error(bhttp::error::body_limit);
  }
  if (response.result_int() != 200) {
    *out = Unavailable("HTTP " + std::to_string(response.result_int()));
  } else {
    *out = response.body();
  }
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

Result<std::string> FetchHttps(const std::string& url, const std::string& ca_file,
                               std::chrono::milliseconds timeout, size_t max_body_bytes) {
  ASSIGN_OR_RETURN(HttpsUrl parsed, ParseHttpsUrl(url));
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                  ssl::context::no_tlsv1_1);
  tls.set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  tls.set_default_verify_paths(ec);
  if (!ca_file.empty()) {
    tls.load_verify_file(ca_file, ec);
    if (ec) return FailedPrecondition("cannot load CA file " + ca_file + ": " + ec.message());
  }
  net::io_context io;
  Result<std::string> out = Unavailable("no answer");
  std::string failure;
  net::co_spawn(io, Get(tls, parsed, timeout, max_body_bytes, &out), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& error) {
      failure = error.code() == beast::error::timeout ? "timeout" : error.code().message();
      if (error.code().category() == net::error::get_ssl_category()) {
        failure = "TLS: " + error.code().message();
      }
    } catch (const std::exception& error) {
      failure = error.what();
    }
  });
  io.run();
  if (failure == "timeout")
    return DeadlineExceeded("GET " + url + ": no answer within " + std::to_string(timeout.count()) +
                            " ms");
  if (!failure.empty()) return Unavailable("GET " + url + ": " + failure);
  if (!out.ok()) return Unavailable("GET " + url + ": " + out.status().message());
  return out;
}

}  // namespace oncomesh::http
