#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>

#include "http/http.h"

namespace oncomesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  net::io_context& io;
  std::string host;
  uint16_t port;
  std::mutex mu;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle;  // keep-alive connections

  Impl(net::io_context& io_in, std::string host_in, uint16_t port_in)
      : io(io_in), host(std::move(host_in)), port(port_in) {}

  std::unique_ptr<beast::tcp_stream> TakeIdle() {
    std::lock_guard<std::mutex> lock(mu);
    if (idle.empty()) return nullptr;
    auto s = std::move(idle.back());
    idle.pop_back();
    return s;
  }
  void GiveBack(std::unique_ptr<beast::tcp_stream> s) {
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < 64) idle.push_back(std::move(s));
  }
};

namespace {

struct Call : std::enable_shared_from_this<Call> {
  std::shared_ptr<Client::Impl> client;
  std::unique_ptr<beast::tcp_stream> stream;
  bool reused = false;
  bhttp::request<bhttp::string_body> request;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point deadline;
  std::function<void(Result<Response>)> done;
  bool finished = false;

  void Start() {
    ResetParser();
    stream = client->TakeIdle();
    if (stream) {
      reused = true;
      Send();
    } else {
      Connect();
    }
  }

  void Connect() {
    reused = false;
    stream = std::make_unique<beast::tcp_stream>(net::make_strand(client->io));
    stream->expires_at(deadline);
    beast::error_code ec;
    const auto address = net::ip::make_address(client->host, ec);
    if (ec) {
      Finish(Unavailable("cannot resolve " + client->host + " (an IP address is required)"));
      return;
    }
    stream->async_connect(tcp::endpoint(address, client->port),
                          [self = shared_from_this()](beast::error_code ec) {
                            if (ec) {
                              self->Finish(self->Failure("connect", ec));
                              return;
                            }
                            beast::error_code ignored;
                            self->stream->socket().set_option(tcp::no_delay(true), ignored);
                            self->Send();
                          });
  }

  void Send() {
    stream->expires_at(deadline);
    bhttp::async_write(*stream, request, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->RetryOr("send", ec);
        return;
      }
      bhttp::async_read(*self->stream, self->buffer, *self->parser,
                        [self](beast::error_code ec, size_t) {
                          if (ec) {
                            self->RetryOr("read", ec);
                            return;
                          }
                          self->OnResponse();
                        });
    });
  }

  // A pooled connection may have been closed by the peer meanwhile: retry once on a new one.
  void RetryOr(const char* what, beast::error_code ec) {
    if (reused && ec != beast::error::timeout && std::chrono::steady_clock::now() < deadline) {
      buffer.consume(buffer.size());
      ResetParser();
      Connect();
      return;
    }
    Finish(Failure(what, ec));
  }

  void ResetParser() {
    parser.emplace();
    parser->body_limit(64 * 1024 * 1024);
  }

  Status Failure(const char* what, beast::error_code ec) const {
    const std::string peer = client->host + ":" + std::to_string(client->port);
    if (ec == beast::error::timeout) {
      return DeadlineExceeded(peer + " did not answer in time");
    }
    return Unavailable(peer + ": " + what + " failed: " + ec.message());
  }

  void OnResponse() {
    auto msg = parser->release();
    Response r;
    r.status = static_cast<int>(msg.result_int());
    if (auto it = msg.find(bhttp::field::content_type); it != msg.end()) {
      r.content_type = std::string(it->value());
    }
    for (const auto& f : msg)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(msg.body());
    if (msg.keep_alive()) {
      stream->expires_never();
      client->GiveBack(std::move(stream));
    }
    Finish(std::move(r));
  }

  void Finish(Result<Response> result) {
    if (finished) return;
    finished = true;
    done(std::move(result));
  }
};

}  // namespace

Client::Client(net::io_context& io, std::string host, uint16_t port)
    : impl_(std::make_shared<Impl>(io, std::move(host), port)) {}

Client::~Client() = default;

void Client::Send(std::string method, std::string target, std::string body,
                  std::vector<std::pair<std::string, std::string>> headers,
                  std::chrono::milliseconds timeout, std::function<void(Result<Response>)> done) {
  auto call = std::make_shared<Call>();
  call->client = impl_;
  call->deadline = std::chrono::steady_clock::now() + timeout;
  call->done = std::move(done);
  call->request.method_string(method);
  call->request.target(target);
  call->request.version(11);
  call->request.set(bhttp::field::host, impl_->host + ":" + std::to_string(impl_->port));
  call->request.set(bhttp::field::user_agent, "OncoMesh/" ONCOMESH_VERSION);
  if (!body.empty()) call->request.set(bhttp::field::content_type, "application/json");
  for (auto& [name, value] : headers) call->request.set(name, value);
  call->request.body() = std::move(body);
  call->request.keep_alive(true);
  call->request.prepare_payload();
  net::post(impl_->io, [call] { call->Start(); });
}

Result<Response> Fetch(const std::string& host, uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body,
                       std::chrono::milliseconds timeout,
                       std::vector<std::pair<std::string, std::string>> headers) {
  net::io_context io;
  Result<Response> result = Unavailable("no response");
  {
    Client client(io, host, port);
    client.Send(method, target, body, std::move(headers), timeout,
                [&](Result<Response> r) { result = std::move(r); });
    io.run();
  }
  return result;
}

}  // namespace oncomesh::http
