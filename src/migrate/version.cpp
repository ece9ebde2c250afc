// MigrationVersion: numeric, part-by-part ordering of dotted versions.
#include <fmt/format.h>

#include <algorithm>

#include "nexdb/migrate.hpp"

namespace nexdb {
namespace {

bool all_digits(std::string_view part) {
  return !part.empty() &&
         std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Compares two digit strings without leading zeros as numbers of any length.
std::strong_ordering compare_number(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  return a.compare(b) <=> 0;
}

}  // namespace

std::optional<MigrationVersion> MigrationVersion::try_parse(std::string_view text) {
  MigrationVersion version;
  version.text_ = std::string(text);
  if (text.empty()) return std::nullopt;
  for (std::size_t begin = 0;;) {
    const std::size_t dot = text.find('.', begin);
    const std::string_view part =
        text.substr(begin, dot == std::string_view::npos ? dot : dot - begin);
    if (!all_digits(part)) return std::nullopt;
    const std::size_t first = part.find_first_not_of('0');
    version.parts_.emplace_back(first == std::string_view::npos ? "0" : part.substr(first));
    if (dot == std::string_view::npos) break;
    begin = dot + 1;
  }
  // Trailing zero parts carry no meaning (1.2 == 1.2.0); dropping them makes == and <=> plain
  // vector comparisons.
  while (!version.parts_.empty() && version.parts_.back() == "0") version.parts_.pop_back();
  return version;
}

MigrationVersion MigrationVersion::parse(std::string_view text) {
  if (auto version = try_parse(text)) return *std::move(version);
  throw ConfigError(
      fmt::format("'{}' is not a migration version: use dot-separated numbers such "
                  "as 1, 1.2, 1.2.3 or 2024.01.15.1",
                  text));
}

std::string MigrationVersion::canonical() const {
  return parts_.empty() ? "0" : fmt::format("{}", fmt::join(parts_, "."));
}

std::strong_ordering operator<=>(const MigrationVersion& a, const MigrationVersion& b) {
  const std::size_t common = std::min(a.parts_.size(), b.parts_.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (auto order = compare_number(a.parts_[i], b.parts_[i]); order != 0) return order;
  }
  // Without trailing zeros, the longer version has a non-zero part further on: it is higher.
  return a.parts_.size() <=> b.parts_.size();
}

}  // namespace nexdb
