// IndexManager on a real backend: idempotent create/drop, listing, duplicates, several targets.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "nexdb/nexdb.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

class Indexes : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    db.emplace(Database::open(fresh_uri()));
    db->execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c INTEGER, d TEXT "
        "UNIQUE)");
  }
  void TearDown() override { db.reset(); }

  bool postgres() const { return GetParam() == Dialect::postgres; }
  std::string fresh_uri() {
    if (postgres()) return schemas_.emplace_back(std::make_unique<PgSchema>())->uri();
    return "sqlite:" + dir_.path() + "/db" + std::to_string(++files_) + ".db";
  }
  static const IndexInfo* find(const std::vector<IndexInfo>& list, std::string_view name) {
    auto it =
        std::find_if(list.begin(), list.end(), [&](const IndexInfo& i) { return i.name == name; });
    return it == list.end() ? nullptr : &*it;
  }

  std::optional<Database> db;

 private:
  TempDir dir_;
  std::vector<std::unique_ptr<PgSchema>> schemas_;
  int files_ = 0;
};

TEST_P(Indexes, CreateIsIdempotentAndListed) {
  IndexManager indexes(*db);
  const IndexDefinition def{.table = "items", .columns = {"a", "b DESC"}};
  const auto first = indexes.create_index(def);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].action, IndexAction::created);
  EXPECT_EQ(first[0].index, "items_a_b_idx");
  EXPECT_EQ(first[0].sql, def.create_sql(GetParam()));
  const auto second = indexes.create_index(def);
  EXPECT_EQ(second[0].action, IndexAction::already_present);
  EXPECT_TRUE(second[0].sql.empty());

  const auto list = indexes.list("items");
  const IndexInfo* info = find(list, "items_a_b_idx");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->table, "items");
  EXPECT_EQ(info->columns, (std::vector<std::string>{"a", "b DESC"}));
  EXPECT_FALSE(info->unique);
  EXPECT_TRUE(info->valid);
  EXPECT_EQ(info->target, db->description());
  EXPECT_NE(info->definition.find("items_a_b_idx"), std::string::npos);
  // The UNIQUE constraint's index is listed too, and known to back it.
  const auto unique = std::find_if(list.begin(), list.end(), [](const IndexInfo& i) {
    return i.unique && !i.primary && i.columns == std::vector<std::string>{"d"};
  });
  ASSERT_NE(unique, list.end());
  EXPECT_TRUE(unique->backs_constraint);
  EXPECT_EQ(postgres(), unique->size_bytes.has_value());
}

TEST_P(Indexes, SameNameWithAnotherDefinitionIsRefused) {
  IndexManager indexes(*db);
  indexes.create_index({.table = "items", .columns = {"a"}, .name = "ix"});
  try {
    indexes.create_index({.table = "items", .columns = {"b"}, .name = "ix"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("already exists"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("(a)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      indexes.create_index({.table = "items", .columns = {"a"}, .unique = true, .name = "ix"}),
      UsageError);
}

TEST_P(Indexes, DropIsIdempotent) {
  IndexManager indexes(*db);
  indexes.create_index({.table = "items", .columns = {"c"}});
  const auto dropped = indexes.drop_index("items_c_idx");
  EXPECT_EQ(dropped[0].action, IndexAction::dropped);
  EXPECT_EQ(find(indexes.list(), "items_c_idx"), nullptr);
  EXPECT_EQ(indexes.drop_index("items_c_idx")[0].action, IndexAction::absent);
}

TEST_P(Indexes, PartialIndexWithAPredicate) {
  IndexManager indexes(*db);
  indexes.create_index({.table = "items", .columns = {"a"}, .where = "c > 10", .name = "big_c"});
  const auto list = indexes.list("items");
  const IndexInfo* info = find(list, "big_c");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->partial);
}

TEST_P(Indexes, DuplicatesOnAPurposeBuiltSchema) {
  db->execute("CREATE INDEX ix_a ON items (a)");  // covered by ix_a_b
  db->execute("CREATE INDEX ix_a_b ON items (a, b)");
  db->execute("CREATE INDEX ix_b ON items (b)");         // not a leading prefix of anything
  db->execute("CREATE UNIQUE INDEX uq_a ON items (a)");  // enforces uniqueness: kept
  db->execute("CREATE INDEX ix_c1 ON items (c)");        // identical twins: one goes
  db->execute("CREATE INDEX ix_c2 ON items (c)");
  db->execute("CREATE INDEX ix_c_part ON items (c) WHERE a > 0");  // partial: another predicate
  db->execute("CREATE INDEX ix_d ON items (d)");  // covered by the UNIQUE constraint's index
  IndexManager indexes(*db);
  std::vector<std::pair<std::string, std::string>> found;
  for (const DuplicateIndex& d : indexes.duplicates()) {
    found.emplace_back(d.unneeded.name, d.covering.name);
    EXPECT_NE(d.drop_sql.find(d.unneeded.name), std::string::npos);
  }
  std::sort(found.begin(), found.end());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], (std::pair<std::string, std::string>{"ix_a", "ix_a_b"}));
  EXPECT_EQ(found[1], (std::pair<std::string, std::string>{"ix_c2", "ix_c1"}));
  EXPECT_EQ(found[2].first, "ix_d");
}

TEST_P(Indexes, EveryTargetInOrderAndFailuresNameTheTarget) {
  Database second = Database::open(fresh_uri());
  second.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER)");
  Database third = Database::open(fresh_uri());  // no table: creating there fails
  IndexManager indexes({{.name = "shard-1", .database = *db},
                        {.name = "shard-2", .database = second},
                        {.name = "shard-3", .database = third}});
  try {
    indexes.create_index({.table = "items", .columns = {"a"}});
    FAIL() << "shard-3 has no table items";
  } catch (const SqlError& e) {
    EXPECT_NE(e.message().find("on shard-3"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("already done on shard-1, shard-2"), std::string::npos) << e.what();
  }
  third.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER)");
  const auto again = indexes.create_index({.table = "items", .columns = {"a"}});
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].action, IndexAction::already_present);
  EXPECT_EQ(again[1].action, IndexAction::already_present);
  EXPECT_EQ(again[2].action, IndexAction::created);
  std::vector<std::string> targets;
  for (const IndexInfo& i : indexes.list("items")) {
    if (i.name == "items_a_idx") targets.push_back(i.target);
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"shard-1", "shard-2", "shard-3"}));
}

TEST_P(Indexes, FromConfigCoversEveryShardsCluster) {
  const std::string a = fresh_uri();
  const std::string b = fresh_uri();
  for (const std::string& uri : {a, b}) {
    Database::open(uri).execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER)");
  }
  const Config config = Config::parse(
      "[clusters.shard0]\nprimary = \"" + a + "\"\n[clusters.shard1]\nprimary = \"" + b +
      "\"\n[shards]\nkey = \"user_id\"\n[shards.map]\n0 = \"shard0\"\n1 = \"shard1\"\n"
      "2 = \"shard0\"\n3 = \"shard1\"\n");
  IndexManager indexes = IndexManager::from_config(config);
  const auto changes = indexes.create_index({.table = "orders", .columns = {"user_id"}});
  ASSERT_EQ(changes.size(), 2u);  // each cluster once, however many shards it holds
  EXPECT_EQ(changes[0].target, "shard0");
  EXPECT_EQ(changes[1].target, "shard1");
  for (const std::string& uri : {a, b}) {
    EXPECT_TRUE(find(IndexManager(Database::open(uri)).list("orders"), "orders_user_id_idx"))
        << uri;
  }
}

TEST_P(Indexes, BadDefinitionsTouchNothing) {
  IndexManager indexes(*db);
  const auto before = indexes.list().size();
  EXPECT_THROW(indexes.create_index({.table = "items", .columns = {}}), UsageError);
  EXPECT_THROW(
      indexes.create_index({.table = "items", .columns = {"a"}, .where = "1; DROP TABLE items"}),
      UsageError);
  EXPECT_THROW(indexes.create_index({.table = "nope", .columns = {"a"}}), SqlError);
  EXPECT_EQ(indexes.list().size(), before);
  EXPECT_EQ(db->execute("SELECT count(*) FROM items").scalar<std::int64_t>(), 0);
}

// DDL takes no bound values, so `where` is text: it must never carry a second statement, whatever
// each backend's tokenizer makes of it.
TEST_P(Indexes, PredicatesCannotSmuggleStatements) {
  IndexManager indexes(*db);
  db->execute("INSERT INTO items (id, a, c) VALUES (1, 1, 11)");
  const std::vector<std::string> attacks{
      // PostgreSQL nests comments, SQLite does not: one comment to libpg_query, two statements to
      // sqlite3_exec.
      "1 = 1 /* /* */ ) ; DROP TABLE items; -- */ ",
      "c > 10) ; DROP TABLE items; SELECT (1",
      "true) UNION SELECT (1",
      "c > 10 -- the rest is a comment )",
      "c > 10); DROP TABLE items",
  };
  for (const std::string& where : attacks) {
    EXPECT_THROW(indexes.create_index(
                     {.table = "items", .columns = {"a"}, .where = where, .name = "ix_evil"}),
                 UsageError)
        << where;
  }
  EXPECT_EQ(find(indexes.list("items"), "ix_evil"), nullptr);
  EXPECT_EQ(db->execute("SELECT count(*) FROM items").scalar<std::int64_t>(), 1);
  // Names are quoted, never spliced: a name full of SQL is just an odd name.
  const auto odd = indexes.create_index(
      {.table = "items", .columns = {"a"}, .name = "x\"; DROP TABLE items; --"});
  EXPECT_EQ(odd[0].action, IndexAction::created);
  EXPECT_NE(find(indexes.list("items"), "x\"; DROP TABLE items; --"), nullptr);
  EXPECT_EQ(indexes.drop_index("\"x\"\"; DROP TABLE items; --\"")[0].action, IndexAction::dropped);
  EXPECT_EQ(db->execute("SELECT count(*) FROM items").scalar<std::int64_t>(), 1);
}

TEST_P(Indexes, ExistingIndexWithAnotherPredicateIsNotTakenForTheSame) {
  IndexManager indexes(*db);
  indexes.create_index({.table = "items", .columns = {"a"}, .name = "ix_a"});
  EXPECT_THROW(
      indexes.create_index({.table = "items", .columns = {"a"}, .where = "c > 10", .name = "ix_a"}),
      UsageError);
}

TEST_P(Indexes, UsageStatisticsExistOnPostgresOnly) {
  IndexManager indexes(*db);
  if (postgres()) {
    EXPECT_NO_THROW((void)indexes.unused());
  } else {
    EXPECT_THROW((void)indexes.unused(), UsageError);
    EXPECT_TRUE(indexes.invalid().empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Backend, Indexes, ::testing::Values(NEXDB_TEST_DIALECT),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nexdb::test
