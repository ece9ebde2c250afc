// Errors of one shard's part, rethrown with the cluster named and their type kept, so that a
// caller's `catch (const UniqueViolation&)` works the same with or without sharding.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace nexdb::shard_detail {

/// Rethrows `error` as the same nexdb error type with "cluster NAME (shard N): " before its
/// message.
[[noreturn]] void rethrow_for(std::exception_ptr error, std::string_view where);

}  // namespace nexdb::shard_detail
