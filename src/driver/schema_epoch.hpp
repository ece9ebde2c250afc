// Process-wide counters of schema changes made through nexdb.
//
// The schema epoch counts DDL that can change a prepared statement's result type. PostgreSQL
// refuses to run such a statement ("cached plan must not change result type", 0A000); outside a
// transaction the driver re-prepares and runs it again, but inside one the error has already
// aborted the transaction. DDL that runs through nexdb bumps the epoch, and a cached statement
// prepared in an older epoch is re-prepared before its next use: the common case (a migration or
// an index change made by this process, seen by every pooled connection) never surfaces the error.
//
// The plan epoch counts every change that can change a plan (any DDL, indexes included, and
// ANALYZE): the optimizer checks plans again after it moves.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace nexdb::detail {

inline std::atomic<std::uint64_t>& schema_epoch_counter() noexcept {
  static std::atomic<std::uint64_t> epoch{0};
  return epoch;
}
inline std::atomic<std::uint64_t>& plan_epoch_counter() noexcept {
  static std::atomic<std::uint64_t> epoch{0};
  return epoch;
}
inline std::uint64_t schema_epoch() noexcept {
  return schema_epoch_counter().load(std::memory_order_acquire);
}
inline std::uint64_t plan_epoch() noexcept {
  return plan_epoch_counter().load(std::memory_order_acquire);
}
inline void bump_schema_epoch() noexcept {
  schema_epoch_counter().fetch_add(1, std::memory_order_acq_rel);
}
inline void bump_plan_epoch() noexcept {
  plan_epoch_counter().fetch_add(1, std::memory_order_acq_rel);
}

/// What a statement (or a ';'-separated script) may change. Cheap: it looks only at the first
/// words of each piece, and errs on the side of true.
struct SchemaChange {
  bool plans = false;         // CREATE, ALTER, DROP, ANALYZE, REINDEX of anything
  bool result_types = false;  // the same, except indexes and temporary objects
};
SchemaChange classify_schema_change(std::string_view sql) noexcept;
inline bool may_change_result_types(std::string_view sql) noexcept {
  return classify_schema_change(sql).result_types;
}

/// Bumps the counters `change` calls for.
inline void note(SchemaChange change) noexcept {
  if (change.plans) bump_plan_epoch();
  if (change.result_types) bump_schema_epoch();
}

}  // namespace nexdb::detail
