// Candidate indexes for one statement, from its predicates, joins and ordering (Dexter's idea,
// made order-aware): equality columns first, then a range column or the ORDER BY columns.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nexdb/index.hpp"
#include "optimizer/query_facts.hpp"

namespace nexdb::detail {

struct Candidate {
  std::string schema{};
  std::string table{};
  std::vector<std::string> columns{};  // "user_id", "created_at DESC"
  bool covers_order = false;           // delivers the block's ORDER BY
  std::string key() const;             // "schema.table(columns)"
};

/// What candidate generation needs to know about a table: its columns (empty: not a base table
/// we can index, e.g. a view) and its indexes.
struct TableInfo {
  std::vector<std::string> columns{};
  std::vector<IndexInfo> indexes{};
};
using TableLookup =
    std::function<const TableInfo&(const std::string& schema, const std::string& table)>;

/// Candidates for `facts`, most specific first, at most `limit`; none already served by an
/// existing index (one whose leading columns are the candidate's).
std::vector<Candidate> index_candidates(const QueryFacts& facts, const TableLookup& tables,
                                        std::size_t limit);

}  // namespace nexdb::detail
