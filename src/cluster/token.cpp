// ConsistencyToken and LSN text: PostgreSQL prints an LSN as two hex halves, "16/B374D848".
#include <fmt/format.h>

#include <charconv>

#include "nexdb/error.hpp"
#include "nexdb/replica.hpp"

namespace nexdb {

namespace {
std::optional<std::uint32_t> parse_hex_half(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}
}  // namespace

std::optional<std::uint64_t> parse_lsn(std::string_view text) noexcept {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto high = parse_hex_half(text.substr(0, slash));
  auto low = parse_hex_half(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return (std::uint64_t{*high} << 32) | *low;
}

std::string format_lsn(std::uint64_t lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xFFFFFFFFu);
}

ConsistencyToken ConsistencyToken::parse(std::string_view text) {
  auto lsn = parse_lsn(text);
  if (!lsn) {
    // The text usually comes from a client (a cookie): do not echo it back in full.
    throw UsageError(
        fmt::format("malformed consistency token ({} characters); expected an LSN "
                    "such as \"0/3000060\"",
                    text.size()));
  }
  return ConsistencyToken(*lsn);
}

std::string ConsistencyToken::to_string() const { return format_lsn(lsn_); }

std::string_view to_string(HostRole role) noexcept {
  switch (role) {
    case HostRole::primary:
      return "primary";
    case HostRole::replica:
      return "replica";
    case HostRole::unknown:
      break;
  }
  return "unknown";
}

}  // namespace nexdb
