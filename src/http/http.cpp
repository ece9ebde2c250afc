#include "http/http.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <thread>

#include "config/checks.hpp"
#include "nexdb/error.hpp"

namespace nexdb::http {

ListenAddress parse_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  ListenAddress out;
  const std::string_view port_text =
      colon == std::string_view::npos ? "" : listen.substr(colon + 1);
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      out.port < 0 || out.port > 65535) {
    throw ConfigError(
        fmt::format("listen address '{}': expected host:port with a port from 0 to 65535 "
                    "(e.g. 127.0.0.1:9477, [::1]:9477)",
                    listen));
  }
  std::string_view host = listen.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  // The configuration's own check (IPv4, [IPv6], host names), with a stand-in for port 0.
  if (auto problem = config_detail::check_listen(fmt::format("{}:1", host))) {
    throw ConfigError(fmt::format("listen address '{}': {}", listen, *problem));
  }
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  return out;
}

struct Server::Impl {
  httplib::Server server;
  std::thread thread;
  std::string host;
  int port = 0;
};

Server::Server(std::string_view listen, Handler handle) : impl_(std::make_unique<Impl>()) {
  const ListenAddress address = parse_listen(listen);
  impl_->host = address.host;
  auto& server = impl_->server;
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_keep_alive_max_count(100);
  // httplib's default sets SO_REUSEPORT, which lets a second process bind the same port and
  // silently take half the scrapes. SO_REUSEADDR alone still allows a quick restart.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto serve = [handle = std::move(handle)](const httplib::Request& req, httplib::Response& res) {
    Request request{
        .method = req.method, .path = req.path, .accept = req.get_header_value("Accept")};
    Response response;
    try {
      response = handle(request);
    } catch (const std::exception& e) {
      response = {.status = 500, .body = fmt::format("internal error: {}\n", e.what())};
    }
    res.status = response.status;
    res.set_content(std::move(response.body), response.content_type.c_str());
  };
  server.Get(".*", serve);
  impl_->port = address.port == 0
                    ? server.bind_to_any_port(address.host)
                    : (server.bind_to_port(address.host, address.port) ? address.port : -1);
  if (impl_->port <= 0) {
    throw ConnectionError(
        fmt::format("cannot listen on {}: the address is in use or not local "
                    "(choose another with --listen or [metrics] listen)",
                    listen));
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // stop() before the accept loop runs would be lost, so wait until it runs.
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Server::~Server() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int Server::port() const noexcept { return impl_->port; }
const std::string& Server::host() const noexcept { return impl_->host; }

Url parse_url(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    return ConfigError(fmt::format("URL '{}': {}", redact_password(text), why));
  };
  const bool https = text.starts_with("https://");
  if (!https && !text.starts_with("http://"))
    throw fail("expected http://host:port/path or https://...");
  std::string_view rest = text.substr(https ? 8 : 7);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url url;
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  while (url.path.ends_with('/')) url.path.pop_back();
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    url.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) url.password = std::string(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) throw fail("no host");
  const auto close = authority.find(']');
  const bool has_port = authority.starts_with('[')
                            ? close != std::string_view::npos && close + 1 < authority.size()
                            : authority.find(':') != std::string_view::npos;
  std::string host_port(authority);
  if (!has_port) host_port += https ? ":443" : ":80";
  if (auto problem = config_detail::check_listen(host_port)) throw fail(*problem);
  url.scheme_host_port = (https ? "https://" : "http://") + host_port;
  return url;
}

namespace {

httplib::Client client_for(const Url& base, std::chrono::milliseconds timeout) {
  httplib::Client client(base.scheme_host_port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  if (!base.user.empty()) client.set_basic_auth(base.user, base.password);
  return client;
}

Result result_of(const httplib::Result& res) {
  if (!res) return {.error = httplib::to_string(res.error())};
  return {.status = res->status, .body = res->body};
}

}  // namespace

Result send(std::string_view method, const Url& base, std::string_view path, std::string_view body,
            std::string_view content_type, std::chrono::milliseconds timeout,
            const std::vector<Header>& headers) {
  httplib::Client client = client_for(base, timeout);
  httplib::Headers extra;
  for (const Header& h : headers) extra.emplace(h.name, h.value);
  const std::string full = base.path + std::string(path);
  const std::string type(content_type);
  if (method == "PUT") return result_of(client.Put(full, extra, body.data(), body.size(), type));
  if (method == "POST") return result_of(client.Post(full, extra, body.data(), body.size(), type));
  if (method == "DELETE")
    return result_of(client.Delete(full, extra, body.data(), body.size(), type));
  throw UsageError(fmt::format("http::send: unsupported method {}", method));
}

Result get(const Url& base, std::string_view path, std::chrono::milliseconds timeout) {
  httplib::Client client = client_for(base, timeout);
  return result_of(client.Get(base.path + std::string(path)));
}

}  // namespace nexdb::http
