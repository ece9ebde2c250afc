// Plans from both backends, as PlanNode trees. Internal to the optimizer.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "nexdb/optimizer.hpp"

namespace nexdb::detail {

/// EXPLAIN (FORMAT JSON, VERBOSE) output as a Plan.
Plan parse_postgres_plan(std::string json);
/// EXPLAIN QUERY PLAN rows (id, parent, notused, detail) as a Plan; `aliases` maps the names
/// SQLite prints (aliases) to tables.
Plan parse_sqlite_plan(const Rows& rows, const std::map<std::string, std::string>& aliases);

/// The plan of `statement`, generic (PostgreSQL, no values) or with its values.
inline Plan explain_for(Connection& connection, const Statement& statement, bool generic) {
  return generic ? explain_generic(connection, statement.sql) : explain(connection, statement);
}

/// "20,000"
std::string group_thousands(double value);

}  // namespace nexdb::detail
