// Merging the per-shard results of a SELECT into the result one database holding every row
// would return: k-way merge of sorted parts, combined aggregates and groups, HAVING, DISTINCT,
// OFFSET and LIMIT. Knows nothing about how the parts were fetched.
#pragma once

#include <span>
#include <vector>

#include "nexdb/rows.hpp"
#include "shard/analysis.hpp"

namespace nexdb::shard_detail {

/// `parts` are the results of FanOutPlan::statement on each shard (at least one); `params` the
/// statement's own parameters (for LIMIT, OFFSET and HAVING values).
Rows merge(const MergeSpec& spec, std::vector<Rows> parts, std::span<const Value> params);

/// The LIMIT each shard runs with: limit + offset, or -1 for none.
std::int64_t pushed_limit(const MergeSpec& spec, std::span<const Value> params);

}  // namespace nexdb::shard_detail
