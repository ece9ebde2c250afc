// The four shard primaries of the test cluster, each with a fresh schema for the test (selected
// through search_path in the URI), and an unsharded reference schema on the main primary.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/database.hpp"
#include "nexdb/shard.hpp"
#include "shard/two_phase.hpp"
#include "shard_compare.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {

class ShardPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    schema_ = fmt::format("shard_t_{}_{}", ::getpid(), counter++);
    for (int i = 0; i < 4; ++i) {
      connect(pg_shard_uri(i))->execute_script(fmt::format("CREATE SCHEMA \"{}\"", schema_));
      uris_.push_back(in_schema(pg_shard_uri(i)));
    }
    // The unsharded reference lives in a schema of its own on shard 0's server (not on the main
    // primary, whose WAL the replica lag tests measure).
    connect(pg_shard_uri(0))->execute_script(fmt::format("CREATE SCHEMA \"{}_ref\"", schema_));
    reference_.emplace(Database::open(in_schema(pg_shard_uri(0), schema_ + "_ref")));
    shards_.emplace(shard_test_config(uris_));
    for (const auto& ddl : shard_test_tables(Dialect::postgres)) {
      shards_->execute_on_all(ddl);  // DDL in a two-phase transaction on all four
      reference_->execute(ddl);
    }
  }

  void TearDown() override {
    for (auto& c : direct_) c.reset();
    shards_.reset();
    reference_.reset();
    for (const auto& uri :
         {pg_shard_uri(0), pg_shard_uri(1), pg_shard_uri(2), pg_shard_uri(3), pg_primary_uri()}) {
      try {
        connect(uri)->execute_script(fmt::format(
            "DROP SCHEMA IF EXISTS \"{0}\" CASCADE; DROP SCHEMA IF EXISTS \"{0}_ref\" CASCADE",
            schema_));
      } catch (...) {
        // The server may be gone at the end of a failing run.
      }
    }
  }

  std::string in_schema(const std::string& uri) const { return in_schema(uri, schema_); }
  static std::string in_schema(const std::string& uri, const std::string& schema) {
    return fmt::format("{}?options=-csearch_path%3D{}", uri, schema);
  }

  /// Rows of `sql` (a count) on shard primary `shard`, outside nexdb's routing.
  std::int64_t count_on(int shard, const std::string& sql) {
    auto& connection = direct_[static_cast<std::size_t>(shard)];
    if (!connection) connection = connect(in_schema(pg_shard_uri(shard)));
    return connection->execute(sql).scalar<std::int64_t>();
  }

  /// nexdb's prepared transactions of transaction `txid` on every shard primary.
  std::int64_t prepared(const std::string& txid) const {
    std::int64_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n += connect(pg_shard_uri(i))
               ->execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE $1",
                         "nexdb:" + txid + ":%")
               .scalar<std::int64_t>();
    }
    return n;
  }

  /// Prepared transactions whose participant is one of this test's clusters (gids carry a
  /// hash of the cluster's name, and the names hold this test's schema).
  std::int64_t prepared_of_this_test() const {
    std::int64_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n += connect(pg_shard_uri(i))
               ->execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE $1",
                         "nexdb:%:" + shard_detail::cluster_tag(uris_[static_cast<std::size_t>(i)]))
               .scalar<std::int64_t>();
    }
    return n;
  }

  std::string schema_;
  std::vector<std::string> uris_;
  std::array<std::unique_ptr<Connection>, 4> direct_{};
  std::optional<Database> reference_;
  std::optional<ShardManager> shards_;
};

}  // namespace nexdb::test
