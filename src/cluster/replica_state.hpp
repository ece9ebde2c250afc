// The shared state behind ReplicaManager: one entry per host (its pool, its health-check thread
// and what the last check saw), one mutex over the routing data.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "nexdb/replica.hpp"

namespace nexdb::detail {

using SteadyClock = std::chrono::steady_clock;

struct ReplicaHost {
  std::size_t index = 0;
  ConnectOptions options{};
  std::unique_ptr<ConnectionPool> pool{};
  // Everything below is guarded by ReplicaState::mutex_.
  HostStats stats{};
  double rtt_us = 0;                        // EWMA of the probe round trip
  std::chrono::milliseconds replay_age{0};  // now() - last replayed commit (replicas)
  std::uint64_t promoted_seq = 0;           // when this host was last seen becoming primary
  std::uint64_t probes_done = 0;
  bool probing = false;
  std::uint64_t refresh_wanted = 0;  // probe now when above probes_done's generation
  std::chrono::milliseconds backoff{0};
  SteadyClock::time_point next_probe{};
  std::thread checker{};
};

/// What one health check returned.
struct ProbeResult {
  bool in_recovery = false;
  std::uint64_t lsn = 0;
  std::chrono::milliseconds replay_age{0};
  std::chrono::microseconds rtt{0};
};

class ReplicaState {
 public:
  explicit ReplicaState(ReplicaSettings settings);
  ~ReplicaState();
  ReplicaState(const ReplicaState&) = delete;
  ReplicaState& operator=(const ReplicaState&) = delete;

  const ReplicaSettings& settings() const noexcept { return settings_; }
  const std::shared_ptr<StatementObserverHub>& observers() const noexcept { return observers_; }
  /// The host for a read / write right now; ConnectionError when there is none.
  ReplicaHost& choose_read(ReadPreference preference, const ReplicaHost* avoid = nullptr);
  ReplicaHost& choose_write();
  /// A lease from `host`, counted as a read or a write.
  Lease lease(ReplicaHost& host, bool write);
  /// Counts a use of `host` that took its connection some other way (the async layer).
  void count_use(ReplicaHost& host, bool write);
  /// Host `index` (0 = the configured primary), for per-host state kept elsewhere.
  ReplicaHost& host(std::size_t index) noexcept { return *hosts_[index]; }
  /// A statement failed on `host` with a connection error: take it out until a probe says
  /// otherwise, and probe it now.
  void report_failure(ReplicaHost& host, const std::string& error);
  std::size_t host_count() const noexcept { return hosts_.size(); }

  std::vector<HostStats> snapshot() const;
  void refresh(std::chrono::milliseconds timeout);

 private:
  void run_checker(ReplicaHost& host);
  void apply_probe(ReplicaHost& host, const ProbeResult& result);
  void apply_failure(ReplicaHost& host, const std::string& error);
  void update_lags();

  ReplicaSettings settings_;
  std::shared_ptr<StatementObserverHub> observers_;
  StatementObserverHub::Attachment configured_observer_;
  std::vector<std::unique_ptr<ReplicaHost>> hosts_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;    // checkers: stop, refresh or a failure report
  std::condition_variable probed_;  // refresh(): a probe finished
  bool stopping_ = false;
  std::uint64_t role_changes_ = 0;
  std::minstd_rand random_{std::random_device{}()};
};

/// Read-your-writes, shared by the blocking and async sessions. On the connection that will run
/// the read: has this host replayed up to $1 (an LSN)? A primary has everything it wrote.
inline constexpr const char* kCaughtUpSql =
    "SELECT COALESCE(NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= $1::pg_lsn, false)";
/// After a commit, on the primary: at or past the end of the commit record just written,
/// whatever synchronous_commit says (the flush position may still be behind it).
inline constexpr const char* kInsertLsnSql = "SELECT pg_current_wal_insert_lsn()::text";

/// The routing state behind a ReplicaManager, for the async layer (src/async).
struct ReplicaAccess {
  static ReplicaState& state(ReplicaManager& manager) noexcept { return *manager.state_; }
};

// Host selection: pure functions of what the health checks saw (host_selection.cpp), called
// under ReplicaState's mutex.
using HostList = std::vector<std::unique_ptr<ReplicaHost>>;

/// The healthy host reporting itself primary; when several do (a promoted replica while the old
/// primary still runs), the one seen becoming primary most recently. Null when there is none.
ReplicaHost* current_primary(const HostList& hosts);
/// A healthy replica within both lag limits.
bool readable_replica(const ReplicaHost& host, const ReplicaSettings& settings);
/// The host a read with `preference` goes to, never `avoid`; null when none is eligible. Among
/// several eligible hosts, MongoDB's rule: the lowest smoothed RTT, then a random host among
/// those within `latency_window` of it.
ReplicaHost* pick_read_host(const HostList& hosts, ReadPreference preference, const ReplicaSettings& settings,
                            const ReplicaHost* avoid, std::minstd_rand& random);

/// Runs the health-check query on `connection`.
ProbeResult probe(Connection& connection);

}  // namespace nexdb::detail
