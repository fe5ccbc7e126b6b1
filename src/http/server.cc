#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "http/http.h"

namespace oncomesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// ---- Request, Router, URL coding -----------------------------------------------------------

const std::string* Request::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? nullptr : &it->second;
}

std::string PublicBaseUrl(const Request& request, const std::string& public_url) {
  std::string base =
      public_url.empty() ? (request.local.empty() ? "" : "http://" + request.local) : public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

const std::string* Request::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? nullptr : &it->second;
}

void Router::Add(std::string method, std::string pattern, std::string description,
                 Handler handler) {
  routes_.push_back(
      {std::move(method), std::move(pattern), std::move(description), std::move(handler)});
}

void Router::AddSync(std::string method, std::string pattern, std::string description,
                     std::function<Response(Request&)> handler) {
  Add(std::move(method), std::move(pattern), std::move(description),
      [h = std::move(handler)](Request& req, const Responder& respond) { respond(h(req)); });
}

namespace {

// A message's header fields into `request`, names in lower case (Request::Header).
template <class Fields>
void CopyHeaders(const Fields& fields, Request* request) {
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request->headers[name] = std::string(field.value());
  }
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>* params) {
  const auto p = Segments(pattern);
  const auto s = Segments(path);
  if (p.size() != s.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() > 2 && p[i].front() == '{' && p[i].back() == '}') {
      found[std::string(p[i].substr(1, p[i].size() - 2))] = std::string(s[i]);
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  if (params) *params = std::move(found);
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const Route* Router::Match(Request& request, bool* method_mismatch) const {
  *method_mismatch = false;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, request.path, nullptr)) continue;
    if (r.method != request.method) {
      *method_mismatch = true;
      continue;
    }
    MatchPattern(r.pattern, request.path, &request.path_params);
    return &r;
  }
  return nullptr;
}

std::string UrlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::multimap<std::string, std::string> ParseQueryString(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      out.emplace(UrlDecode(pair.substr(0, eq), true), eq == std::string_view::npos
                                                           ? std::string()
                                                           : UrlDecode(pair.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// ---- Server ---------------------------------------------------------------------------------

struct Server::Impl {
  Router router;
  ServerOptions options;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  uint16_t bound_port = 0;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  Response Error(int status, const std::string& message) const {
    if (options.error_response) return options.error_response(status, message);
    Response r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = message + "\n";
    return r;
  }
  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      const std::string address = remote.address().to_string();
      peer_ = (remote.address().is_v6() ? "[" + address + "]" : address) + ":" +
              std::to_string(remote.port());
    }
    const tcp::endpoint local = stream_.socket().local_endpoint(ec);
    if (!ec) {
      const std::string address = local.address().to_string();
      local_ = (local.address().is_v6() ? "[" + address + "]" : address) + ":" +
               std::to_string(local.port());
    }
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      Close();
      return;
    }
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      Refuse(PartialRequest(),
             server_.Error(413, "request body larger than " +
                                    std::to_string(server_.options.max_body_bytes) + " bytes"));
      return;
    }
    if (ec) {
      keep_alive_ = false;
      Refuse(PartialRequest(),
             server_.Error(400, std::string("malformed HTTP request: ") + ec.message()));
      return;
    }
    bhttp::request<bhttp::string_body> msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    auto request = std::make_shared<Request>();
    request->method = std::string(msg.method_string());
    request->target = std::string(msg.target());
    const std::string_view target(request->target);
    const size_t q = target.find('?');
    request->path = UrlDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) request->query = ParseQueryString(target.substr(q + 1));
    CopyHeaders(msg, request.get());
    request->body = std::move(msg.body());
    request->peer = peer_;
    request->local = local_;

    bool method_mismatch = false;
    const Route* route = server_.router.Match(*request, &method_mismatch);
    if (!route) {
      Refuse(request, method_mismatch ? server_.Error(405, "method " + request->method +
                                                               " not allowed on " + request->path)
                                      : server_.Error(404, "no such endpoint: " + request->path));
      return;
    }
    Responder respond = MakeResponder(request);
    try {
      route->handler(*request, respond);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", request->method, request->path, e.what());
      respond(server_.Error(500, "internal error"));
    }
  }

  // Answers exactly once, on this session's strand, whichever thread calls it. Keeps the
  // request alive until then (a handler answering later may still refer to it).
  Responder MakeResponder(std::shared_ptr<Request> request) {
    auto self = shared_from_this();
    auto responded = std::make_shared<std::atomic<bool>>(false);
    return [self, responded, request = std::move(request)](Response response) {
      if (responded->exchange(true)) return;
      net::post(self->stream_.get_executor(),
                [self, r = std::move(response)]() mutable { self->Write(std::move(r)); });
    };
  }

  // What was read of a request the server refuses before routing (413, 400).
  std::shared_ptr<Request> PartialRequest() {
    auto request = std::make_shared<Request>();
    request->peer = peer_;
    request->local = local_;
    // Beast refuses an announced body over the limit before it marks the header done, with the
    // start line and fields already read: what was read is used whenever the target is there.
    if (parser_ && (parser_->is_header_done() || !parser_->get().target().empty())) {
      const auto& header = parser_->get();
      request->method = std::string(header.method_string());
      request->target = std::string(header.target());
      const std::string_view target(request->target);
      request->path = UrlDecode(target.substr(0, target.find('?')), false);
      // The headers too: the refusal's audit entry names the caller its credentials show.
      CopyHeaders(header, request.get());
    }
    return request;
  }

  void Refuse(const std::shared_ptr<Request>& request, Response refusal) {
    if (!server_.options.on_refusal) {
      Write(std::move(refusal));
      return;
    }
    Responder respond = MakeResponder(request);
    try {
      server_.options.on_refusal(*request, std::move(refusal), respond);
    } catch (const std::exception& e) {
      spdlog::error("refusal hook for {} {} threw: {}", request->method, request->path, e.what());
      respond(server_.Error(500, "internal error"));
    }
  }

  void Write(Response response) {
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    msg->version(version_);
    msg->result(static_cast<unsigned>(response.status));
    msg->set(bhttp::field::server, "OncoMesh/" ONCOMESH_VERSION);
    msg->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) msg->set(name, value);
    msg->body() = std::move(response.body);
    msg->keep_alive(keep_alive_);
    msg->prepare_payload();
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_write(stream_, *msg,
                       [self = shared_from_this(), msg](beast::error_code ec, size_t) {
                         if (ec || !self->keep_alive_) {
                           self->Close();
                           return;
                         }
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::string peer_;
  std::string local_;
};

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    Accept();
  });
}

Server::Server(Router router, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->router = std::move(router);
  impl_->options = std::move(options);
}

Server::~Server() { Stop(); }

Status Server::Start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.address, ec);
  if (ec) return InvalidArgument("http: bad listen address '" + impl_->options.address + "'");
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("http: cannot listen on " + impl_->options.address + ":" +
                       std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->work.emplace(net::make_work_guard(impl_->io));
  impl_->Accept();
  const int threads = std::max(1, impl_->options.threads);
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->bound_port; }

void Server::Stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->work.reset();
  impl_->io.stop();
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

boost::asio::io_context& Server::io() { return impl_->io; }

Router& Server::router() { return impl_->router; }

}  // namespace oncomesh::http
