// Helpers for the serialize tests: render in both dialects and compare text and parameters.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/value.hpp"

namespace nexdb {
// Lets GoogleTest print bound values in failure messages.
inline void PrintTo(const Value& value, std::ostream* os) {
  *os << to_string(value.type()) << ":" << value.to_display_string();
}
}  // namespace nexdb

namespace nexdb::test {

template <class... V>
std::vector<Value> params(V&&... values) {
  return {Value(std::forward<V>(values))...};
}

/// The PostgreSQL text with each $n turned into ?, which is what the SQLite text must be.
inline std::string as_sqlite(const std::string& postgres_sql) {
  std::string out;
  for (std::size_t i = 0; i < postgres_sql.size(); ++i) {
    const bool placeholder = postgres_sql[i] == '$' && i + 1 < postgres_sql.size() &&
                             std::isdigit(static_cast<unsigned char>(postgres_sql[i + 1]));
    if (!placeholder) {
      out += postgres_sql[i];
      continue;
    }
    out += '?';
    while (i + 1 < postgres_sql.size() &&
           std::isdigit(static_cast<unsigned char>(postgres_sql[i + 1])))
      ++i;
  }
  return out;
}

/// Renders `query` for both dialects and checks the PostgreSQL text, the SQLite text (the
/// same with ? placeholders) and the bound values of each.
template <Renderable Q>
::testing::AssertionResult renders(const Q& query, const std::string& postgres_sql,
                                   const std::vector<Value>& expected_params) {
  const Statement pg = query.render(Dialect::postgres);
  const Statement lite = query.render(Dialect::sqlite);
  if (pg.sql != postgres_sql) {
    return ::testing::AssertionFailure()
           << "postgres SQL\n  actual:   " << pg.sql << "\n  expected: " << postgres_sql;
  }
  if (lite.sql != as_sqlite(postgres_sql)) {
    return ::testing::AssertionFailure()
           << "sqlite SQL\n  actual:   " << lite.sql << "\n  expected: " << as_sqlite(postgres_sql);
  }
  for (const auto* statement : {&pg, &lite}) {
    if (statement->params != expected_params) {
      auto failure = ::testing::AssertionFailure()
                     << "parameters of " << statement->sql << "\n  actual:  ";
      for (const Value& v : statement->params) failure << " " << ::testing::PrintToString(v);
      failure << "\n  expected:";
      for (const Value& v : expected_params) failure << " " << ::testing::PrintToString(v);
      return failure;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nexdb::test
