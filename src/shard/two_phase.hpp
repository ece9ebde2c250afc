// Two-phase commit across PostgreSQL clusters, and what recovery needs to read it back: the
// global transaction id format and the decision log. See transaction.cpp for the protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/shard.hpp"

namespace nexdb::detail {
class ShardState;
class ShardCluster;
struct Participant;
}  // namespace nexdb::detail

namespace nexdb::shard_detail {

/// "nexdb:<txid, 16 hex>:<coordinator>:<participant>", clusters as 8 hex digits of the XXH3 of
/// their names: unique per server, safe to quote, short (PostgreSQL allows 200 bytes).
std::string make_gid(std::uint64_t txid, const std::string& coordinator,
                     const std::string& participant);
struct ParsedGid {
  std::uint64_t txid = 0;
  std::string coordinator;  // 8 hex digits
  std::string participant;
};
/// The parts of a gid; nullopt unless it is exactly that form (lower-case hex), so a gid read
/// back from the server is one nexdb made.
std::optional<ParsedGid> parse_gid(std::string_view gid);
/// `verb 'gid'` (COMMIT PREPARED, ROLLBACK PREPARED, PREPARE TRANSACTION), the gid quoted as
/// a string literal: these statements take no parameters.
std::string prepared_statement(std::string_view verb, std::string_view gid);
/// 8 hex digits identifying a cluster name in gids.
std::string cluster_tag(const std::string& name);

/// Creates the decision log on `cluster` unless this process did already.
void ensure_log(detail::ShardState& shards, detail::ShardCluster& cluster);

class TwoPhaseCommit {
 public:
  TwoPhaseCommit(detail::ShardState& shards, const ShardTransactionOptions& options,
                 std::size_t coordinator);
  /// Commits the writers' transactions atomically; `writers` includes the coordinator.
  void run(std::vector<detail::Participant*>& writers);

 private:
  void abort_prepared(std::vector<detail::Participant*>& prepared,
                      std::vector<std::string>& gids) noexcept;
  void step(TwoPhaseStep step) const;

  detail::ShardState& shards_;
  const ShardTransactionOptions& options_;
  std::size_t coordinator_;
  std::uint64_t txid_;
  std::string txid_text_;
};

}  // namespace nexdb::shard_detail
