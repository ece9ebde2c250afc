// Column names are the same for every run of a cached statement: share one copy between results
// instead of allocating the names again for each of them.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nexdb/rows.hpp"

namespace nexdb::detail {

/// `cached` when the result's `count` names (name_at(i) -> const char*) equal it; otherwise a
/// fresh list, which also replaces `cached` (a statement re-prepared after DDL may change shape).
template <class NameAt>
Rows::Columns reuse_columns(Rows::Columns& cached, int count, NameAt name_at) {
  const auto n = static_cast<std::size_t>(count);
  if (cached && cached->size() == n) {
    bool same = true;
    for (std::size_t i = 0; i < n && same; ++i) same = (*cached)[i] == name_at(static_cast<int>(i));
    if (same) return cached;
  }
  auto fresh = std::make_shared<std::vector<std::string>>();
  fresh->reserve(n);
  for (int i = 0; i < count; ++i) fresh->emplace_back(name_at(i));
  cached = std::move(fresh);
  return cached;
}

}  // namespace nexdb::detail
