// Replication lag of the replicas an archive run must not outrun, measured the way
// ReplicaManager's health checks measure it (the same probe query).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/archive.hpp"
#include "nexdb/connection.hpp"

namespace nexdb::archive_detail {

struct LagReading {
  std::string replica{};  // without credentials
  std::uint64_t bytes = 0;
  std::chrono::milliseconds delay{0};
  std::string error{};  // the replica could not be probed: counts as too far behind
};

class LagProbe {
 public:
  explicit LagProbe(LagLimit limit);
  ~LagProbe();
  /// The first replica beyond a bound, measured against `primary`'s current WAL position.
  std::optional<LagReading> over_limit(Connection& primary);

 private:
  LagLimit limit_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace nexdb::archive_detail
