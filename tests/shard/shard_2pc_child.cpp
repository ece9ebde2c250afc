// Helper of shard_2pc_test: runs one cross-shard transaction over the four shard primaries and,
// at the requested step of its two-phase commit, prints "txid <id>" and waits to be killed.
//   shard_2pc_child <uri0> <uri1> <uri2> <uri3> prepared|decided
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include "nexdb/shard.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    fmt::print(stderr, "usage: shard_2pc_child URI0 URI1 URI2 URI3 prepared|decided\n");
    return 2;
  }
  using namespace nexdb;
  ShardConfig config{.shard_key = "user_id", .table_keys = {{"users", "id"}}};
  for (int i = 0; i < 4; ++i) config.shard_map[static_cast<std::size_t>(i)] = argv[1 + i];
  const std::string stop_at = argv[5];
  ShardManager shards(config);
  // One user per shard, ids 1000..: the parent knows them by the same rule.
  Statement insert{"INSERT INTO users (id, name) VALUES ", {}};
  std::set<std::size_t> seen;
  for (std::int64_t id = 1000; seen.size() < 4; ++id) {
    if (!seen.insert(shards.shard_for(id)).second) continue;
    insert.sql += fmt::format("{}(${}, 'killed')", insert.params.empty() ? "" : ", ",
                              insert.params.size() + 1);
    insert.params.emplace_back(id);
  }
  shards.transaction([&](ShardTransaction& tx) { tx.execute(insert); },
                     {.on_step = [&](TwoPhaseStep step, std::string_view txid) {
                       const bool stop =
                           (step == TwoPhaseStep::prepared && stop_at == "prepared") ||
                           (step == TwoPhaseStep::decided && stop_at == "decided");
                       if (!stop) return;
                       fmt::print("txid {}\n", txid);
                       std::fflush(stdout);
                       for (;;) ::pause();  // until SIGKILL
                     }});
  fmt::print("committed\n");
  return 0;
}
