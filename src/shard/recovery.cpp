// ShardManager::recover(): settles two-phase transactions left prepared by a crash (see the
// protocol in transaction.cpp). A prepared transaction is committed when its coordinator's log
// has its gid, rolled back when the coordinator's transaction is over (its advisory lock is
// free) without one, and left alone while that lock is held.
#include <fmt/format.h>

#include <map>
#include <set>

#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"
#include "shard/directory.hpp"
#include "shard/shard_state.hpp"
#include "shard/two_phase.hpp"

namespace nexdb {
namespace {

using detail::ShardCluster;
using detail::ShardState;

enum class Decision { commit, roll_back, wait };

constexpr std::string_view kPrepared =
    "SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'nexdb:%' AND database = current_database() "
    "ORDER BY gid";

std::vector<std::string> prepared_gids(ShardCluster& cluster) {
  Lease lease = cluster.write();
  std::vector<std::string> gids;
  for (Row row : lease->execute(kPrepared)) gids.push_back(row.get<std::string>(0));
  return gids;
}

// The log's gids on `cluster`; empty when it has no log yet.
std::vector<std::string> logged_gids(const ShardState& state, ShardCluster& cluster) {
  Lease lease = cluster.write();
  const std::string table = shard_detail::quote_qualified(state.options.two_phase_log);
  const Rows exists = lease->execute(
      Statement{"SELECT to_regclass($1) IS NOT NULL", {state.options.two_phase_log}});
  if (!exists.scalar<bool>()) return {};
  std::vector<std::string> gids;
  for (Row row : lease->execute(fmt::format("SELECT gid FROM {}", table)))
    gids.push_back(row.get<std::string>(0));
  return gids;
}

Decision decide(const ShardState& state, ShardCluster& coordinator,
                const shard_detail::ParsedGid& parsed, const std::string& gid) {
  Lease lease = coordinator.write();
  const auto key = static_cast<std::int64_t>(parsed.txid);
  if (!lease->execute(Statement{"SELECT pg_try_advisory_lock($1)", {key}}).scalar<bool>())
    return Decision::wait;
  struct Unlock {
    Connection& connection;
    std::int64_t key;
    ~Unlock() {
      try {
        connection.execute(Statement{"SELECT pg_advisory_unlock($1)", {key}});
      } catch (...) {
        // The session ends with the connection, and the lock with it.
      }
    }
  } unlock{*lease, key};
  const Rows exists = lease->execute(
      Statement{"SELECT to_regclass($1) IS NOT NULL", {state.options.two_phase_log}});
  if (!exists.scalar<bool>()) return Decision::roll_back;
  const Rows logged = lease->execute(
      Statement{fmt::format("SELECT count(*) FROM {} WHERE gid = $1",
                            shard_detail::quote_qualified(state.options.two_phase_log)),
                {gid}});
  return logged.scalar<std::int64_t>() > 0 ? Decision::commit : Decision::roll_back;
}

void settle(ShardCluster& cluster, const std::string& gid, Decision decision,
            RecoveryReport& report) {
  Lease lease = cluster.write();
  try {
    lease->execute_script(shard_detail::prepared_statement(
        decision == Decision::commit ? "COMMIT PREPARED" : "ROLLBACK PREPARED", gid));
  } catch (const SqlError& e) {
    if (e.sqlstate() != "42704")
      throw;  // settled meanwhile by its coordinator or another recover()
    return;
  }
  (decision == Decision::commit ? report.committed : report.rolled_back).push_back(gid);
}

}  // namespace

RecoveryReport ShardManager::recover() {
  ShardState& state = *state_;
  RecoveryReport report;
  if (state.dialect != Dialect::postgres) return report;  // SQLite prepares nothing
  std::map<std::string, ShardCluster*> by_tag;
  for (auto& c : state.clusters) by_tag[shard_detail::cluster_tag(c->name)] = c.get();

  // Log rows first: a row seen now belongs to a transaction whose participants were prepared
  // before it was written, so if they are gone later, they were settled.
  std::map<ShardCluster*, std::vector<std::string>> logs;
  for (auto& c : state.clusters) {
    try {
      logs[c.get()] = logged_gids(state, *c);
    } catch (const std::exception& e) {
      report.errors.push_back(
          fmt::format("{}reading the 2PC log failed: {}", c->where(), e.what()));
    }
  }
  std::set<std::string> still_prepared;
  std::set<std::string> settled_clusters;  // tags of clusters whose every prepared gid was handled
  for (auto& c : state.clusters) {
    try {
      for (const std::string& gid : prepared_gids(*c)) {
        const auto parsed = shard_detail::parse_gid(gid);
        auto coordinator = parsed ? by_tag.find(parsed->coordinator) : by_tag.end();
        if (coordinator == by_tag.end()) {  // another shard map's transaction on a shared server
          report.foreign.push_back(gid);
          still_prepared.insert(gid);
          continue;
        }
        const Decision decision = decide(state, *coordinator->second, *parsed, gid);
        if (decision == Decision::wait) {
          report.in_progress.push_back(gid);
          still_prepared.insert(gid);
          continue;
        }
        settle(*c, gid, decision, report);
      }
      settled_clusters.insert(shard_detail::cluster_tag(c->name));
    } catch (const std::exception& e) {
      report.errors.push_back(fmt::format("{}{}", c->where(), e.what()));
    }
  }
  for (auto& [cluster, gids] : logs) {
    for (const std::string& gid : gids) {
      // Keep the row while its participant may still be prepared (or could not be checked).
      const auto parsed = shard_detail::parse_gid(gid);
      if (!parsed || still_prepared.contains(gid) ||
          !settled_clusters.contains(parsed->participant))
        continue;
      try {
        Lease lease = cluster->write();
        lease->execute(
            Statement{fmt::format("DELETE FROM {} WHERE gid = $1",
                                  shard_detail::quote_qualified(state.options.two_phase_log)),
                      {gid}});
        ++report.log_entries_removed;
      } catch (const std::exception& e) {
        report.errors.push_back(
            fmt::format("{}removing log row {} failed: {}", cluster->where(), gid, e.what()));
      }
    }
  }
  return report;
}

}  // namespace nexdb
