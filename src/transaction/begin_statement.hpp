// The statement that opens a transaction, shared by the sync and async transactions.
#pragma once

#include <string>

#include "nexdb/transaction.hpp"

namespace nexdb::detail {

/// BEGIN with the isolation level and access mode of `options` for `dialect` (SQLite: BEGIN
/// IMMEDIATE for writers, DEFERRED for readers).
std::string begin_statement(Dialect dialect, TransactionOptions options, bool read_only);

}  // namespace nexdb::detail
