// Column names and types are the same for every run of a cached statement: share one copy
// between results instead of allocating them again for each of them.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nexdb/rows.hpp"

namespace nexdb::detail {

/// `cached` when the result's `count` items (at(i): a name as const char*, or a ColumnType)
/// equal it; otherwise a fresh list, which also replaces `cached` (a statement re-prepared after
/// DDL may change shape).
template <class T, class At>
std::shared_ptr<const std::vector<T>> reuse(std::shared_ptr<const std::vector<T>>& cached,
                                            int count, At at) {
  const auto n = static_cast<std::size_t>(count);
  if (cached && cached->size() == n) {
    bool same = true;
    for (std::size_t i = 0; i < n && same; ++i) same = (*cached)[i] == at(static_cast<int>(i));
    if (same) return cached;
  }
  auto fresh = std::make_shared<std::vector<T>>();
  fresh->reserve(n);
  for (int i = 0; i < count; ++i) fresh->emplace_back(at(i));
  cached = std::move(fresh);
  return cached;
}

/// The names and types of a statement's last result, shared with its next results.
struct ColumnCache {
  Rows::Columns names{};
  Rows::ColumnTypes types{};
};

}  // namespace nexdb::detail
