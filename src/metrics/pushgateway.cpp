#include "metrics/pushgateway.hpp"

#include <fmt/format.h>

#include "nexdb/error.hpp"

namespace nexdb::metrics::detail {
namespace {

std::string base64url(std::string_view text) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(text[i]) << 16) |
                       (static_cast<unsigned char>(text[i + 1]) << 8) |
                       static_cast<unsigned char>(text[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(n >> shift) & 63];
  }
  if (i < text.size()) {
    unsigned n = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) n |= static_cast<unsigned char>(text[i + 1]) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < text.size() ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out.empty() ? "=" : out;  // the Pushgateway's spelling of an empty value
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void append_segment(std::string& path, std::string_view label, std::string_view value) {
  if (value.empty() || value.find('/') != std::string_view::npos) {
    fmt::format_to(std::back_inserter(path), "/{}@base64/{}", label, base64url(value));
    return;
  }
  fmt::format_to(std::back_inserter(path), "/{}/", label);
  for (char c : value) {
    if (unreserved(c)) {
      path += c;
    } else {
      fmt::format_to(std::back_inserter(path), "%{:02X}", static_cast<unsigned char>(c));
    }
  }
}

}  // namespace

std::string pushgateway_path(std::string_view job, const Labels& grouping) {
  std::string path = "/metrics";
  append_segment(path, "job", job);
  for (const auto& [label, value] : grouping) append_segment(path, label, value);
  return path;
}

void push_to_gateway(const http::Url& gateway, std::string_view job, const Labels& grouping,
                     const std::string& body, std::chrono::milliseconds timeout) {
  const std::string path = pushgateway_path(job, grouping);
  const http::Result result =
      http::send("PUT", gateway, path, body, content_type(ExpositionFormat::prometheus), timeout);
  if (result.ok()) return;
  throw ConnectionError(
      result.status == 0
          ? fmt::format("push to the Pushgateway at {} failed: {}", gateway.display(), result.error)
          : fmt::format("the Pushgateway at {} refused the push ({}): {}", gateway.display(),
                        result.status, result.body.substr(0, 300)));
}

}  // namespace nexdb::metrics::detail
