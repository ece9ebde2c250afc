#include "config/checks.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"

namespace nexdb::config_detail {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// libpq parses a URI or key=value string without connecting; catching a typo here means
// `nexdb config check` finds it rather than the first query in production.
std::optional<std::string> check_libpq_string(std::string_view uri) {
  char* error = nullptr;
  const std::string text(uri);
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return std::nullopt;
  }
  std::string reason = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return fmt::format("invalid connection string '{}': {}", redact_password(uri),
                     redact_password(reason));
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i < host.size() && host[i] != '.') {
      if (!is_alnum(host[i]) && host[i] != '-') return false;
      continue;
    }
    const std::string_view label = host.substr(label_start, i - label_start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    label_start = i + 1;
  }
  return true;
}

std::optional<std::string> check_host(std::string_view host) {
  if (host.starts_with('[')) {
    const std::string inner(host.substr(1, host.size() - 2));
    in6_addr address{};
    if (!host.ends_with(']') || inet_pton(AF_INET6, inner.c_str(), &address) != 1) {
      return fmt::format("'{}' is not a valid IPv6 address", host);
    }
    return std::nullopt;
  }
  const bool numeric = std::all_of(host.begin(), host.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (numeric) {
    const std::string text(host);
    in_addr address{};
    if (inet_pton(AF_INET, text.c_str(), &address) != 1) {
      return fmt::format("'{}' is not a valid IPv4 address", host);
    }
    return std::nullopt;
  }
  if (!valid_host_name(host)) return fmt::format("'{}' is not a valid host name", host);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_uri(std::string_view uri) {
  if (uri.empty()) return "must not be empty (a postgresql:// URI or sqlite:path)";
  Dialect dialect{};
  try {
    dialect = dialect_of(uri);
  } catch (const ConfigError& e) {
    return e.message();
  }
  if (dialect == Dialect::sqlite) {
    std::string_view path = uri.substr(uri.find(':') + 1);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) {
      return "sqlite URI names no file; use sqlite:path/to/app.db or sqlite::memory:";
    }
    return std::nullopt;
  }
  return check_libpq_string(uri);
}

std::optional<std::string> check_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fmt::format("'{}' is not host:port (e.g. 127.0.0.1:9477, [::1]:9477, 0.0.0.0:9477)",
                       listen);
  }
  const std::string_view port_text = listen.substr(colon + 1);
  int port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port < 1 || port > 65535) {
    return fmt::format("'{}': the port must be a number from 1 to 65535", listen);
  }
  const std::string_view host = listen.substr(0, colon);
  if (host.find(':') != std::string_view::npos && !host.starts_with('[')) {
    return fmt::format("'{}': write an IPv6 address in brackets, e.g. [::1]:9477", listen);
  }
  return check_host(host);
}

std::optional<std::string> check_label_name(std::string_view name) {
  const bool valid =
      !name.empty() && !(name.front() >= '0' && name.front() <= '9') &&
      std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; });
  if (!valid) {
    return fmt::format("'{}' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", name);
  }
  if (name.starts_with("__")) {
    return fmt::format("'{}': label names starting with '__' are reserved by Prometheus", name);
  }
  return std::nullopt;
}

std::optional<std::string> check_cluster_name(std::string_view name) {
  const bool valid = !name.empty() && name.size() <= 63 &&
                     std::all_of(name.begin(), name.end(),
                                 [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
  if (!valid) {
    return fmt::format("'{}' is not a valid cluster name (1 to 63 of A-Z a-z 0-9 _ -)", name);
  }
  return std::nullopt;
}

std::optional<std::string> check_application_name(std::string_view name) {
  if (name.size() > 63) {
    return fmt::format("is {} characters; PostgreSQL keeps at most 63", name.size());
  }
  const bool printable =
      std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!printable) {
    return std::string("must be printable ASCII (PostgreSQL replaces other characters with '?')");
  }
  return std::nullopt;
}

}  // namespace nexdb::config_detail
