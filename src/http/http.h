// HTTP for every OncoMesh service: the project's own Request/Response types, a router, a
// server and a client. This folder is the only one that includes the HTTP library
// (Boost.Beast); handlers elsewhere take and return these plain types, so tests call them
// without sockets.
//
// The server is asynchronous (Boost.Asio, one io_context run by N threads), so thousands of
// keep-alive connections cost no threads: a thread-per-connection server with a small pool
// (cpp-httplib's default) was measured here collapsing from ~30,000 to ~300 requests/s past
// 16 keep-alive connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace boost::asio {
class io_context;
}

namespace oncomesh::http {

struct Request {
  std::string method;                             // "GET", "POST"…
  std::string target;                             // as received: path and query
  std::string path;                               // decoded path, without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // names in lower case
  std::string body;
  std::map<std::string, std::string> path_params;  // from {name} segments of the route
  // The client's address as the server's socket saw it: "127.0.0.1:51234", "[::1]:51234"
  // (a proxy in front of the node is the client here). Empty for requests not from a socket.
  std::string peer;
  // The server's own address of the connection, in the same form ("127.0.0.1:8080"): where the
  // client reached the node, known from the socket, never from what the client wrote (the Host
  // header). Empty for requests not from a socket.
  std::string local;

  // First value of a query parameter, or nullptr.
  const std::string* Query(const std::string& name) const;
  const std::string* Header(const std::string& lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The base URL ("scheme://host[:port]", no trailing '/') that links in answers start with:
// `public_url` when set (a node's node.yaml public_url), else "http://" + request.local (where
// the client reached the server); "" when neither is known. Never the Host header: the client
// writes it, and some links carry the caller's credentials beside them (htsget block URLs).
std::string PublicBaseUrl(const Request& request, const std::string& public_url);

// Handlers answer exactly once through the responder, possibly later and from another thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(Request&, Responder)>;

struct Route {
  std::string method;
  std::string pattern;      // "/api/datasets/{id}"
  std::string description;  // one line, for the generated API description
  Handler handler;
};

class Router {
 public:
  void Add(std::string method, std::string pattern, std::string description, Handler handler);
  // A synchronous handler: its return value is the response.
  void AddSync(std::string method, std::string pattern, std::string description,
               std::function<Response(Request&)> handler);

  // Finds the route for the request and fills its path_params. nullptr if none; then
  // *method_mismatch says whether the path exists under another method.
  const Route* Match(Request& request, bool* method_mismatch) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};
  // Called when no route matches (404/405), and for requests the server refuses before
  // routing (e.g. a body over the limit); builds the service's own error document.
  std::function<Response(int status, const std::string& message)> error_response;
  // Optional: the server's refusals (the `error_response` above, with what is known of the
  // request: for a 413 or 400 its method and target when they were read) go through this
  // instead of straight to the client. It must answer exactly once through the responder,
  // e.g. after auditing the refusal.
  std::function<void(Request& request, Response refusal, Responder respond)> on_refusal;
};

class Server {
 public:
  Server(Router router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on background threads. Fails if the address cannot be bound.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void Stop();
  // The server's io_context, for asynchronous work of handlers (e.g. the hub's fan-out).
  boost::asio::io_context& io();
  // The routes; may be changed only before Start().
  Router& router();

  struct Impl;  // opaque: defined in server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

// An HTTP/1.1 client over keep-alive connections to one host:port, for the hub's calls to
// nodes and for tests. Asynchronous calls run on the given io_context; thread-safe.
class Client {
 public:
  Client(boost::asio::io_context& io, std::string host, uint16_t port);
  ~Client();

  // Sends a request and calls `done` once with the response or an error (Unavailable for a
  // connection failure, DeadlineExceeded when `timeout` passes first).
  void Send(std::string method, std::string target, std::string body,
            std::vector<std::pair<std::string, std::string>> headers,
            std::chrono::milliseconds timeout, std::function<void(Result<Response>)> done);

  struct Impl;  // opaque: defined in client.cc

 private:
  std::shared_ptr<Impl> impl_;
};

// A blocking request on its own io_context: for the command line and tests.
Result<Response> Fetch(const std::string& host, uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       std::vector<std::pair<std::string, std::string>> headers = {});

// A blocking HTTPS GET of `url` ("https://host[:port]/path"), for fetching an issuer's
// OpenID configuration and JWKS. The server's certificate must chain to the system's trusted
// CAs or to those of `ca_file` (PEM; "" for none) and name the host (RFC 6125 checks by
// OpenSSL); TLS 1.2 or later. Only a 200 answer with a body of at most `max_body_bytes` is a
// result; Unavailable (naming the URL and what failed) or DeadlineExceeded otherwise.
Result<std::string> FetchHttps(const std::string& url, const std::string& ca_file,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5),
                               size_t max_body_bytes = 1 << 20);

// Percent-decoding of URL components ('+' is a space in query strings).
std::string UrlDecode(std::string_view text, bool plus_is_space);
std::string UrlEncode(std::string_view text);
// The parameters of a query string ("a=1&b=x+y&c", without the '?'), percent-decoded, in
// order; a parameter without '=' has the empty value, empty pairs are skipped. Never fails:
// what is not valid percent-encoding is kept as written.
std::multimap<std::string, std::string> ParseQueryString(std::string_view query);

}  // namespace oncomesh::http
