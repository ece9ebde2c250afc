// A hook that sees every statement a connection runs: how monitoring (query_duration per
// fingerprint, errors by SQLSTATE) and the optimizer learn about the workload without the
// driver knowing about either. Lower layers call it; only upper layers implement it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "nexdb/value.hpp"

namespace nexdb {

/// One finished statement. Views are valid only during the call.
struct StatementEvent {
  std::string_view sql{};          // the SQL text (never its bound values)
  std::string_view host{};         // Connection::description(): no credentials
  Dialect dialect = Dialect::sqlite;
  std::chrono::nanoseconds duration{0};
  std::size_t rows = 0;            // rows returned (or affected, when nothing is returned)
  std::string_view sqlstate{};     // empty on success; "08006" for a lost connection, etc.
  bool prepared_by_name = false;   // execute_prepared(): `sql` is the statement's name
};

class StatementObserver {
 public:
  virtual ~StatementObserver() = default;
  /// Called on the thread that ran the statement, after it finished or failed. Must be cheap
  /// and must not throw (an exception is swallowed).
  virtual void on_statement(const StatementEvent& event) noexcept = 0;
};

}  // namespace nexdb
