// Decorates a connection so that every statement is reported to a StatementObserver. Only
// connections opened with an observer pay for the clock reads.
#pragma once

#include <memory>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

std::unique_ptr<Connection> observe(std::unique_ptr<Connection> connection,
                                    std::shared_ptr<StatementObserver> observer);

/// The driver's own connection under the observer decorator (itself when there is none): the
/// async layer drives PostgreSQL connections through libpq directly and reports to the
/// observer itself.
Connection& backend_of(Connection& connection) noexcept;
/// The observer `connection` reports to; null when it has none.
std::shared_ptr<StatementObserver> observer_of(const Connection& connection) noexcept;

}  // namespace nexdb::detail
