// GlobalIdGenerator: unique, time-ordered 64-bit ids for rows of sharded tables, made in the
// application without asking any database (Snowflake's layout).
//
//   bit 63      0 (ids are positive BIGINTs)
//   bits 62-22  milliseconds since the epoch (2024-01-01 UTC by default): 41 bits, ~69 years
//   bits 21-12  node id, 0-1023: one per generator running at the same time
//   bits 11-0   sequence within the millisecond: 4096 ids per ms per node
//
// Two generators never produce the same id when their node ids differ. Give each application
// instance its own node id (a pod ordinal, a slot from configuration); without one, a random
// node id is chosen, which is unique among a few instances with high probability only (see
// docs/sharding.md). Ids of one generator increase strictly, even if the clock steps back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "nexdb/value.hpp"

namespace nexdb {

struct GlobalIdSettings {
  /// 0-1023; unset: random.
  std::optional<std::uint16_t> node_id{};
  /// Time zero of the ids.
  std::chrono::sys_time<std::chrono::milliseconds> epoch{std::chrono::milliseconds{1704067200000}};
};

/// An id taken apart.
struct GlobalIdParts {
  std::chrono::sys_time<std::chrono::milliseconds> time{};
  std::uint16_t node_id = 0;
  std::uint16_t sequence = 0;
};

class GlobalIdGenerator {
 public:
  static constexpr int kNodeBits = 10;
  static constexpr int kSequenceBits = 12;

  /// ConfigError for a node id above 1023.
  explicit GlobalIdGenerator(GlobalIdSettings settings = {});

  /// A new id; thread-safe and lock-free. When 4096 ids were taken in one millisecond the next
  /// ones borrow the following milliseconds (ids stay unique and ordered).
  std::int64_t next() noexcept;
  std::uint16_t node_id() const noexcept { return node_id_; }

  /// The parts of an id made with `epoch`.
  static GlobalIdParts decode(
      std::int64_t id,
      std::chrono::sys_time<std::chrono::milliseconds> epoch = GlobalIdSettings{}.epoch) noexcept;

 private:
  std::uint16_t node_id_;
  std::chrono::sys_time<std::chrono::milliseconds> epoch_;
  // (milliseconds since epoch << 12) | sequence of the last id.
  std::atomic<std::uint64_t> last_{0};
};

}  // namespace nexdb
