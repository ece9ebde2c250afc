// Decorates a connection so that every statement is reported to a StatementObserver. Only
// connections opened with an observer pay for the clock reads.
#pragma once

#include <memory>

#include "nexdb/connection.hpp"

namespace nexdb::detail {

std::unique_ptr<Connection> observe(std::unique_ptr<Connection> connection,
                                    std::shared_ptr<StatementObserver> observer);

}  // namespace nexdb::detail
