// Decorates a connection so that every statement is reported to a StatementObserver. Only
// connections opened with an observer pay for the clock reads.
#pragma once

#include <memory>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

std::unique_ptr<Connection> observe(std::unique_ptr<Connection> connection,
                                    std::shared_ptr<StatementObserver> observer);

/// The driver's connection behind an observing decorator (`connection` itself when there is none).
Connection& unwrap_observed(Connection& connection) noexcept;
/// The observer `connection` reports to; null when it has none (the async layer drives
/// PostgreSQL connections through libpq directly and reports to it itself).
std::shared_ptr<StatementObserver> observer_of(const Connection& connection) noexcept;

}  // namespace nexdb::detail
