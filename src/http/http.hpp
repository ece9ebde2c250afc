// A small HTTP server and client over cpp-httplib, which stays out of public headers. The
// metrics endpoint, the Pushgateway and the alert sinks are their only users.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nexdb::http {

struct Request {
  std::string method{};
  std::string path{};
  std::string accept{};  // the Accept header
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body{};
};

/// Serves `handle` for every GET on host:port from its own threads until destroyed.
class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  /// `listen` is "host:port", "[v6]:port" or ":port"; port 0 picks a free port. Throws
  /// ConfigError for a malformed address, ConnectionError when it cannot be bound.
  Server(std::string_view listen, Handler handle);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const noexcept;
  const std::string& host() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// host and port of a listen address; port may be 0. ConfigError when malformed.
struct ListenAddress {
  std::string host{};
  int port = 0;
};
ListenAddress parse_listen(std::string_view listen);

/// An http:// or https:// URL split for the client. ConfigError when malformed.
/// user:password@ in the URL becomes HTTP basic authentication; display() omits the password.
struct Url {
  std::string scheme_host_port{};  // "http://host:port", as httplib::Client takes it
  std::string path{};              // "/api/v2" (no trailing slash), "" for the root
  std::string user{};
  std::string password{};
  std::string display() const { return scheme_host_port + path; }
};
Url parse_url(std::string_view url);

struct Result {
  int status = 0;  // 0 when no response arrived
  std::string body{};
  std::string error{};  // transport error, when status == 0
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

struct Header {
  std::string name;
  std::string value;
};

/// One request with a body; never throws for network problems (see Result::error).
Result send(std::string_view method, const Url& base, std::string_view path, std::string_view body,
            std::string_view content_type, std::chrono::milliseconds timeout,
            const std::vector<Header>& headers = {});
Result get(const Url& base, std::string_view path, std::chrono::milliseconds timeout);

}  // namespace nexdb::http
