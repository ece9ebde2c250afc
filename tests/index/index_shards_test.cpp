// IndexManager over a shard map on the four real PostgreSQL shard primaries the test fixture
// starts: every call reaches every shard's cluster once, idempotently, and each finding names its
// shard.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>

#include <unistd.h>

#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

/// A fresh schema on each shard primary (other tests share these servers), dropped at the end.
class ShardSchemas {
 public:
  ShardSchemas() : name_(fmt::format("ix_{}_{}", ::getpid(), counter_++)) {
    for (int s = 0; s < 4; ++s) {
      connect(pg_shard_uri(s))->execute_script(fmt::format("CREATE SCHEMA \"{}\"", name_));
      uris_[static_cast<std::size_t>(s)] =
          fmt::format("{}?options=-csearch_path%3D{}", pg_shard_uri(s), name_);
    }
  }
  ~ShardSchemas() {
    for (int s = 0; s < 4; ++s) {
      try {
        connect(pg_shard_uri(s))
            ->execute_script(fmt::format("DROP SCHEMA IF EXISTS \"{}\" CASCADE", name_));
      } catch (...) {  // a server gone at teardown of a failing test: nothing else to clean
      }
    }
  }
  const std::string& uri(int shard) const { return uris_[static_cast<std::size_t>(shard)]; }

 private:
  static inline int counter_ = 0;
  std::string name_;
  std::array<std::string, 4> uris_{};
};

class ShardedIndexes : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int s = 0; s < 4; ++s) {
      Database db = Database::open(schemas_.uri(s));
      db.execute(
          "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, code INT, "
          "created_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      db.execute(
          "INSERT INTO orders (id, user_id, code) SELECT g, g % 50, g FROM generate_series(1, "
          "200) g");
      shards_.push_back(std::move(db));
    }
  }
  ShardConfig uri_map() const {
    ShardConfig config{.shard_key = "user_id", .num_shards = 4};
    for (std::size_t s = 0; s < 4; ++s) config.shard_map[s] = schemas_.uri(static_cast<int>(s));
    return config;
  }
  static std::vector<std::string> targets_of(const std::vector<IndexChange>& changes) {
    std::vector<std::string> out;
    for (const IndexChange& c : changes) out.push_back(c.target);
    return out;
  }
  static std::vector<IndexAction> actions_of(const std::vector<IndexChange>& changes) {
    std::vector<IndexAction> out;
    for (const IndexChange& c : changes) out.push_back(c.action);
    return out;
  }
  bool has_index(int shard, const std::string& name) {
    return shards_[static_cast<std::size_t>(shard)]
               .execute(
                   "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
                   "AND indexname = $1",
                   name)
               .scalar<std::int64_t>() == 1;
  }

  ShardSchemas schemas_;
  std::vector<Database> shards_;
  const std::vector<std::string> all_ = {"shard-0", "shard-1", "shard-2", "shard-3"};
};

TEST_F(ShardedIndexes, CreateAndDropReachEveryShardOnceAndAgainChangeNothing) {
  IndexManager indexes = IndexManager::for_shards(uri_map());
  ASSERT_EQ(indexes.targets().size(), 4u);
  const IndexDefinition def{.table = "orders", .columns = {"user_id", "created_at"}};
  const auto created = indexes.create_index(def);
  EXPECT_EQ(targets_of(created), all_);
  EXPECT_EQ(actions_of(created), std::vector<IndexAction>(4, IndexAction::created));
  for (int s = 0; s < 4; ++s) EXPECT_TRUE(has_index(s, "orders_user_id_created_at_idx")) << s;

  const auto again = indexes.create_index(def);
  EXPECT_EQ(actions_of(again), std::vector<IndexAction>(4, IndexAction::already_present));

  std::vector<std::string> listed;
  for (const IndexInfo& i : indexes.list("orders")) {
    if (i.name == "orders_user_id_created_at_idx") listed.push_back(i.target);
  }
  EXPECT_EQ(listed, all_);

  const auto dropped = indexes.drop_index("orders_user_id_created_at_idx");
  EXPECT_EQ(actions_of(dropped), std::vector<IndexAction>(4, IndexAction::dropped));
  for (int s = 0; s < 4; ++s) EXPECT_FALSE(has_index(s, "orders_user_id_created_at_idx")) << s;
  EXPECT_EQ(actions_of(indexes.drop_index("orders_user_id_created_at_idx")),
            std::vector<IndexAction>(4, IndexAction::absent));
}

// An index missing on one shard only (a shard added later, a build that failed there) is created
// there and left alone elsewhere.
TEST_F(ShardedIndexes, AShardMissingTheIndexIsCompleted) {
  shards_[2].execute("DROP TABLE orders");
  IndexManager indexes = IndexManager::for_shards(uri_map());
  const IndexDefinition def{.table = "orders", .columns = {"user_id"}};
  try {
    indexes.create_index(def);
    FAIL() << "shard 2 has no orders table";
  } catch (const SqlError& e) {
    EXPECT_NE(e.message().find("on shard-2"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("already done on shard-0, shard-1"), std::string::npos) << e.what();
  }
  shards_[2].execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL)");
  EXPECT_EQ(actions_of(indexes.create_index(def)),
            (std::vector<IndexAction>{IndexAction::already_present, IndexAction::already_present,
                                      IndexAction::created, IndexAction::created}));
}

TEST_F(ShardedIndexes, DuplicateUnusedAndInvalidIndexesAreFoundOnEachShard) {
  IndexManager indexes = IndexManager::for_shards(uri_map());
  indexes.create_index({.table = "orders", .columns = {"user_id"}, .name = "ix_user"});
  indexes.create_index({.table = "orders", .columns = {"user_id", "created_at"}, .name = "ix_uc"});
  std::map<std::string, std::string> duplicates;  // target -> unneeded index
  for (const DuplicateIndex& d : indexes.duplicates()) {
    EXPECT_EQ(d.unneeded.target, d.covering.target);
    EXPECT_EQ(d.covering.name, "ix_uc");
    duplicates[d.unneeded.target] = d.unneeded.name;
  }
  EXPECT_EQ(duplicates.size(), 4u);
  for (const std::string& target : all_) EXPECT_EQ(duplicates[target], "ix_user") << target;

  std::map<std::string, int> unused;  // never scanned: both on every shard, never the pkey
  for (const IndexInfo& i : indexes.unused()) {
    EXPECT_NE(i.name, "orders_pkey");
    ++unused[i.target];
  }
  for (const std::string& target : all_) EXPECT_EQ(unused[target], 2) << target;

  // A unique concurrent build fails on shard 3 only (its codes repeat), leaving it invalid there.
  shards_[3].execute("UPDATE orders SET code = 1");
  const IndexDefinition unique_code{
      .table = "orders", .columns = {"code"}, .unique = true, .concurrently = true};
  EXPECT_THROW(indexes.create_index(unique_code), UniqueViolation);
  const auto invalid = indexes.invalid();
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_EQ(invalid[0].target, "shard-3");
  EXPECT_EQ(invalid[0].name, "orders_code_idx");
  shards_[3].execute("UPDATE orders SET code = id");
  EXPECT_EQ(actions_of(indexes.create_index(unique_code)),
            (std::vector<IndexAction>{IndexAction::already_present, IndexAction::already_present,
                                      IndexAction::already_present, IndexAction::rebuilt}));
  EXPECT_TRUE(indexes.invalid().empty());
}

TEST_F(ShardedIndexes, NamedClustersHoldingSeveralShardsAreOneTargetEach) {
  const std::vector<ClusterConfig> clusters{{.name = "east", .primary = schemas_.uri(0)},
                                            {.name = "west", .primary = schemas_.uri(1)}};
  const ShardConfig config{.shard_key = "user_id",
                           .num_shards = 4,
                           .shard_map = {{0, "east"}, {1, "west"}, {2, "east"}, {3, "west"}}};
  IndexManager indexes = IndexManager::for_shards(config, clusters);
  const auto created = indexes.create_index({.table = "orders", .columns = {"created_at"}});
  EXPECT_EQ(targets_of(created), (std::vector<std::string>{"east", "west"}));
  EXPECT_TRUE(has_index(0, "orders_created_at_idx"));
  EXPECT_TRUE(has_index(1, "orders_created_at_idx"));
  EXPECT_FALSE(has_index(2, "orders_created_at_idx"));

  const ShardConfig unknown{.shard_key = "user_id", .shard_map = {{0, "east"}, {1, "north"}}};
  EXPECT_THROW((void)IndexManager::for_shards(unknown, clusters), ConfigError);
  EXPECT_THROW((void)IndexManager::for_shards(ShardConfig{}, clusters), ConfigError);
}

}  // namespace
}  // namespace nexdb::test
