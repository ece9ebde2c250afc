// Decorates a connection so that every statement is reported to a StatementObserver. Only
// connections opened with an observer pay for the clock reads.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string_view>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

std::unique_ptr<Connection> observe(std::unique_ptr<Connection> connection,
                                    std::shared_ptr<StatementObserver> observer);

/// The driver's connection behind an observing decorator (`connection` itself when there is none).
Connection& unwrap_observed(Connection& connection) noexcept;
/// The observer `connection` reports to; null when it has none (the async layer drives
/// PostgreSQL connections through libpq directly and reports to it itself).
std::shared_ptr<StatementObserver> observer_of(const Connection& connection) noexcept;

/// Reports to `observer` a statement that ran on `connection` (the observed one) outside its
/// decorator (driver/concurrent_execute.cpp): with its rows, or the error it ended with.
void report_statement(StatementObserver& observer, const Connection& connection,
                      std::string_view sql, std::chrono::nanoseconds duration, const Rows* rows,
                      const std::exception_ptr& error) noexcept;

}  // namespace nexdb::detail
