#define XXH_INLINE_ALL
#include <xxhash.h>
#undef XXH_INLINE_ALL

#include "shard/two_phase.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "nexdb/error.hpp"
#include "shard/directory.hpp"
#include "shard/errors.hpp"
#include "shard/shard_state.hpp"

namespace nexdb::shard_detail {
namespace {

std::uint64_t random_txid() {
  thread_local std::mt19937_64 random{std::random_device{}() ^
                                      (std::uint64_t{std::random_device{}()} << 32)};
  return random();
}

bool is_broken(const Lease& lease) { return !lease || lease->is_broken(); }

// Runs `sql` on the participant's own connection, or a fresh one if that one broke.
void run_settling(detail::ShardCluster& cluster, detail::Participant& p, const std::string& sql) {
  if (!is_broken(p.lease)) {
    p.lease->execute_script(sql);
    return;
  }
  Lease lease = cluster.write();
  lease->execute_script(sql);
}

}  // namespace

std::string cluster_tag(const std::string& name) {
  return fmt::format("{:08x}", static_cast<std::uint32_t>(XXH3_64bits(name.data(), name.size())));
}

std::string make_gid(std::uint64_t txid, const std::string& coordinator,
                     const std::string& participant) {
  return fmt::format("nexdb:{:016x}:{}:{}", txid, cluster_tag(coordinator),
                     cluster_tag(participant));
}

namespace {
bool lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

std::optional<ParsedGid> parse_gid(std::string_view gid) {
  // nexdb:<16 hex>:<8 hex>:<8 hex>, all lower-case hex: anything else is not one of ours.
  if (!gid.starts_with("nexdb:") || gid.size() != 6 + 16 + 1 + 8 + 1 + 8) return std::nullopt;
  if (gid[22] != ':' || gid[31] != ':') return std::nullopt;
  const auto hex = gid.substr(6, 16);
  const auto coordinator = gid.substr(23, 8);
  const auto participant = gid.substr(32, 8);
  if (!lower_hex(hex) || !lower_hex(coordinator) || !lower_hex(participant)) return std::nullopt;
  ParsedGid out;
  std::from_chars(hex.data(), hex.data() + hex.size(), out.txid, 16);
  out.coordinator = std::string(coordinator);
  out.participant = std::string(participant);
  return out;
}

std::string prepared_statement(std::string_view verb, std::string_view gid) {
  std::string literal = "'";
  for (char c : gid) literal += c == '\'' ? std::string("''") : std::string(1, c);
  literal += '\'';
  return fmt::format("{} {}", verb, literal);
}

void ensure_log(detail::ShardState& shards, detail::ShardCluster& cluster) {
  if (cluster.log_ready.load()) return;
  Lease lease = cluster.write();
  try {
    lease->execute_script(
        fmt::format("CREATE TABLE IF NOT EXISTS {} (gid TEXT PRIMARY KEY, "
                    "created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    quote_qualified(shards.options.two_phase_log)));
  } catch (const UniqueViolation&) {
    // Another process created it at the same moment (CREATE ... IF NOT EXISTS is not atomic).
  }
  cluster.log_ready = true;
}

TwoPhaseCommit::TwoPhaseCommit(detail::ShardState& shards, const ShardTransactionOptions& options,
                               std::size_t coordinator)
    : shards_(shards),
      options_(options),
      coordinator_(coordinator),
      txid_(random_txid()),
      txid_text_(fmt::format("{:016x}", txid_)) {}

void TwoPhaseCommit::step(TwoPhaseStep step) const {
  if (options_.on_step) options_.on_step(step, txid_text_);
}

void TwoPhaseCommit::abort_prepared(std::vector<detail::Participant*>& prepared,
                                    std::vector<std::string>& gids) noexcept {
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    try {
      run_settling(*shards_.clusters[prepared[i]->cluster], *prepared[i],
                   prepared_statement("ROLLBACK PREPARED", gids[i]));
    } catch (const std::exception& e) {
      spdlog::warn("ROLLBACK PREPARED '{}' failed ({}); recover() will roll it back", gids[i],
                   e.what());
    }
  }
}

void TwoPhaseCommit::run(std::vector<detail::Participant*>& writers) {
  detail::ShardCluster& coordinator = *shards_.clusters[coordinator_];
  detail::Participant* lead = nullptr;
  std::vector<detail::Participant*> others;
  std::vector<std::string> gids;
  for (auto* w : writers) {
    if (w->cluster == coordinator_) {
      lead = w;
    } else {
      others.push_back(w);
      gids.push_back(make_gid(txid_, coordinator.name, shards_.clusters[w->cluster]->name));
    }
  }
  auto fail = [&](std::vector<detail::Participant*>& prepared,
                  std::vector<std::string>& prepared_gids, std::size_t where) {
    const auto error = std::current_exception();
    abort_prepared(prepared, prepared_gids);
    for (auto* w : writers) {
      if (!is_broken(w->lease) && w->lease->transaction_status() != TransactionStatus::idle) {
        try {
          w->lease->execute_script("ROLLBACK");
        } catch (...) {
        }
      }
    }
    rethrow_for(error, shards_.clusters[where]->where());
  };

  // 1. The decision's place: the log rows, written inside the coordinator's transaction.
  try {
    ensure_log(shards_, coordinator);
    lead->lease->execute(
        Statement{"SELECT pg_advisory_xact_lock($1)", {static_cast<std::int64_t>(txid_)}});
    std::string insert =
        fmt::format("INSERT INTO {} (gid) VALUES ", quote_qualified(shards_.options.two_phase_log));
    Statement log{.sql = {}, .params = {}};
    for (std::size_t i = 0; i < gids.size(); ++i) {
      insert += fmt::format("{}(${})", i == 0 ? "" : ", ", i + 1);
      log.params.emplace_back(gids[i]);
    }
    log.sql = std::move(insert);
    lead->lease->execute(log);
  } catch (...) {
    std::vector<detail::Participant*> none;
    std::vector<std::string> no_gids;
    fail(none, no_gids, coordinator_);
  }
  // 2. Prepare everyone else.
  std::vector<detail::Participant*> prepared;
  std::vector<std::string> prepared_gids;
  for (std::size_t i = 0; i < others.size(); ++i) {
    try {
      others[i]->lease->execute_script(prepared_statement("PREPARE TRANSACTION", gids[i]));
    } catch (...) {
      fail(prepared, prepared_gids, others[i]->cluster);
    }
    prepared.push_back(others[i]);
    prepared_gids.push_back(gids[i]);
  }
  step(TwoPhaseStep::prepared);
  // 3. The commit point.
  try {
    lead->lease->execute_script("COMMIT");
  } catch (const ConnectionLost& e) {
    throw TransactionInDoubt(
        fmt::format(
            "{}the connection broke while the coordinator committed cross-shard transaction {}, so "
            "whether it committed is unknown; ShardManager::recover() (or `nexdb shard recover`) "
            "settles it on every shard: {}",
            coordinator.where(), txid_text_, e.message()),
        {.sqlstate = e.sqlstate(), .host = e.host()});
  } catch (...) {
    fail(prepared, prepared_gids, coordinator_);
  }
  step(TwoPhaseStep::decided);
  // 4. Finish; whatever fails here is committed by recover() later, the decision is durable.
  bool all_done = true;
  for (std::size_t i = 0; i < others.size(); ++i) {
    try {
      run_settling(*shards_.clusters[others[i]->cluster], *others[i],
                   prepared_statement("COMMIT PREPARED", gids[i]));
    } catch (const SqlError& e) {
      if (e.sqlstate() != "42704") {  // 42704: already committed by a concurrent recover()
        all_done = false;
        spdlog::warn("COMMIT PREPARED '{}' failed ({}); recover() will commit it", gids[i],
                     e.what());
      }
    } catch (const std::exception& e) {
      all_done = false;
      spdlog::warn("COMMIT PREPARED '{}' failed ({}); recover() will commit it", gids[i], e.what());
    }
  }
  if (all_done) {
    try {
      Statement cleanup{fmt::format("DELETE FROM {} WHERE gid LIKE $1",
                                    quote_qualified(shards_.options.two_phase_log)),
                        {fmt::format("nexdb:{}:%", txid_text_)}};
      Lease fresh;
      Connection& connection =
          is_broken(lead->lease) ? *(fresh = coordinator.write()) : *lead->lease;
      connection.execute(cleanup);
    } catch (const std::exception& e) {
      spdlog::warn("removing the 2PC log rows of {} failed ({}); recover() removes them",
                   txid_text_, e.what());
    }
  }
  step(TwoPhaseStep::committed);
}

}  // namespace nexdb::shard_detail
