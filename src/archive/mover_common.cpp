// SQL that the copying movers share: the next batch, key lookups and deletes, batched inserts.
#include <fmt/format.h>

#include <algorithm>

#include "archive/mover.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb::archive_detail {
namespace {

// libpq 15 refuses a ParameterDescription message over 30,000 bytes (4 bytes a parameter) as
// "lost synchronization", so a prepared statement takes at most ~7,500 parameters.
constexpr std::size_t kMaxParams = 6000;
constexpr std::size_t kKeysPerList = 500;  // SQLite IN lists

/// PostgreSQL array literal of the keys, bound as one parameter: {"1","2"}.
std::string array_literal(const std::vector<Value>& keys, std::size_t first, std::size_t last) {
  std::string out = "{";
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += ',';
    out += '"';
    for (char c : key_text(keys[i])) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

/// Runs `sql_of(list, params)` for the keys in chunks: one array on PostgreSQL, IN lists on SQLite.
template <class Fn>
void for_key_chunks(Connection& connection, const std::vector<Value>& keys, Fn run) {
  if (keys.empty()) return;
  if (connection.dialect() == Dialect::postgres) {
    run("= ANY($1)", std::vector<Value>{Value(array_literal(keys, 0, keys.size()))});
    return;
  }
  for (std::size_t first = 0; first < keys.size(); first += kKeysPerList) {
    const std::size_t last = std::min(keys.size(), first + kKeysPerList);
    std::string list = "IN (";
    for (std::size_t i = first; i < last; ++i) list += i == first ? "?" : ", ?";
    run(list + ")", std::vector<Value>(keys.begin() + static_cast<std::ptrdiff_t>(first),
                                       keys.begin() + static_cast<std::ptrdiff_t>(last)));
  }
}

}  // namespace

std::string key_text(const Value& key) { return exact_text(key); }

Filter batch_filter(const Job& job, Dialect dialect, const std::optional<Value>& after) {
  Filter f{.sql = "(" + job.settings.where + ")", .params = job.settings.where_params};
  if (after) {
    f.params.emplace_back(*after);
    f.sql += fmt::format(" AND {} > {}", job.source.quoted_key,
                         placeholder(dialect, static_cast<int>(f.params.size())));
  }
  return f;
}

Statement select_batch(const Job& job, Dialect dialect, const std::optional<Value>& after,
                       std::size_t limit) {
  Filter f = batch_filter(job, dialect, after);
  // The limit is our own integer: written into the text, it lets the planner size the batch.
  return {fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}{}", job.source.column_list(),
                      job.source.table.quoted, f.sql, job.source.quoted_key, limit,
                      dialect == Dialect::postgres ? " FOR UPDATE" : ""),
          std::move(f.params)};
}

void plan_each_batch(Connection& connection) {
  if (connection.dialect() == Dialect::postgres)
    connection.execute_script("SET LOCAL plan_cache_mode = force_custom_plan");
}

std::vector<Value> keys_of(const Rows& rows, const std::string& key) {
  const std::size_t column = rows.column_index(key);
  std::vector<Value> out;
  out.reserve(rows.size());
  for (Row row : rows) out.push_back(row[column]);
  return out;
}

std::vector<Value> present_keys(Connection& connection, const TableName& table,
                                const std::string& quoted_key, const std::vector<Value>& keys) {
  std::vector<Value> out;
  for_key_chunks(connection, keys, [&](const std::string& list, std::vector<Value> params) {
    const Rows rows = connection.execute(
        Statement{fmt::format("SELECT {0} FROM {1} WHERE {0} {2}", quoted_key, table.quoted, list),
                  std::move(params)});
    for (Row row : rows) out.push_back(row[0]);
  });
  return out;
}

std::uint64_t count_keys(Connection& connection, const TableName& table,
                         const std::string& quoted_key, const std::vector<Value>& keys) {
  std::uint64_t found = 0;
  for_key_chunks(connection, keys, [&](const std::string& list, std::vector<Value> params) {
    found += connection
                 .execute(Statement{fmt::format("SELECT count(*) FROM {} WHERE {} {}", table.quoted,
                                                quoted_key, list),
                                    std::move(params)})
                 .scalar<std::uint64_t>();
  });
  return found;
}

std::uint64_t delete_keys(Connection& connection, const TableName& table,
                          const std::string& quoted_key, const std::vector<Value>& keys) {
  std::uint64_t deleted = 0;
  for_key_chunks(connection, keys, [&](const std::string& list, std::vector<Value> params) {
    deleted += static_cast<std::uint64_t>(
        connection
            .execute(
                Statement{fmt::format("DELETE FROM {} WHERE {} {}", table.quoted, quoted_key, list),
                          std::move(params)})
            .affected_rows());
  });
  return deleted;
}

Checkpoint copying(const Checkpoint& checkpoint, const std::vector<Value>& keys) {
  Checkpoint copied = checkpoint;
  copied.state = JobState::copied;
  copied.previous_key = checkpoint.last_key;
  copied.last_key = keys.back();
  copied.pending_first = keys.front();
  copied.pending_last = keys.back();
  copied.pending_rows = keys.size();
  copied.pending_keys = keys;
  return copied;
}

void delete_batch(Connection& source, const Job& job, const std::vector<Value>& keys) {
  const auto deleted = delete_keys(source, job.source.table, job.source.quoted_key, keys);
  if (deleted != keys.size()) {
    throw ArchiveError(fmt::format("deleting the archived batch from {} removed {} of {} rows",
                                   job.source.table.text, deleted, keys.size()));
  }
}

void insert_rows(Connection& connection, const TableName& table, const Rows& rows) {
  const std::size_t width = rows.column_count();
  if (rows.empty() || width == 0) return;
  std::string columns;
  for (const auto& name : rows.columns())
    columns += (columns.empty() ? "" : ", ") + quote_identifier(name);
  const Dialect dialect = connection.dialect();
  // Values of identity columns are the archived rows' own: keep them.
  const std::string_view overriding =
      dialect == Dialect::postgres ? " OVERRIDING SYSTEM VALUE" : "";
  const std::size_t per_statement = std::max<std::size_t>(1, kMaxParams / width);
  for (std::size_t first = 0; first < rows.size(); first += per_statement) {
    const std::size_t count = std::min(per_statement, rows.size() - first);
    Statement insert{fmt::format("INSERT INTO {} ({}){} VALUES {}", table.quoted, columns,
                                 overriding, values_list(dialect, count, width, 1)),
                     {}};
    insert.params.reserve(count * width);
    for (std::size_t r = first; r < first + count; ++r) {
      for (std::size_t c = 0; c < width; ++c) insert.params.push_back(rows.value(r, c));
    }
    connection.execute(insert);
  }
}

}  // namespace nexdb::archive_detail
