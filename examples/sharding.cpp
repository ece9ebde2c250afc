// The seed's ShardManager, working: four shards (SQLite files here; PostgreSQL URIs or
// nexdb.toml clusters work the same), rows routed by user_id, a merged top-3, a cross-shard
// transaction and a global id.
//   example_sharding [directory]      (default: ./nexdb-data/example-shards)
#include <nexdb/nexdb.hpp>

#include <filesystem>
#include <iostream>

using namespace nexdb;

struct Orders : Table<Orders> {
  static constexpr std::string_view table_name = "orders";
  Column<std::int64_t> id{this, "id"};
  Column<std::int64_t> user_id{this, "user_id"};
  Column<double> total{this, "total"};
};
inline const Orders Order;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "nexdb-data/example-shards";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<ClusterConfig> clusters;
  for (int i = 1; i <= 4; ++i) {
    const std::string name = "db-shard-" + std::to_string(i);
    clusters.push_back({.name = name, .primary = "sqlite:" + (dir / (name + ".db")).string()});
  }
  ShardManager shards{
      {.shard_key = "user_id",
       .function = ShardFunction::hash,
       .num_shards = 4,
       .shard_map = {{0, "db-shard-1"}, {1, "db-shard-2"}, {2, "db-shard-3"}, {3, "db-shard-4"}}},
      clusters};

  // DDL goes to every shard; SQLite commits it shard by shard.
  shards.execute_on_all(
      "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total REAL NOT NULL)",
      {.sqlite_best_effort = true});
  GlobalIdGenerator ids({.node_id = 1});
  for (std::int64_t user = 1; user <= 20; ++user) {
    shards.execute(insert_into(Order).set(Order.id = ids.next(), Order.user_id = user,
                                          Order.total = 10.0 * user));
  }

  const auto mine = select(Order.id, Order.total).from(Order).where(Order.user_id == 7);
  std::cout << "user 7: " << shards.route(mine).reason << ", " << shards.execute(mine).size()
            << " order\n";

  const auto top =
      select(Order.user_id, Order.total).from(Order).order_by(Order.total.desc()).limit(3);
  for (Row row : shards.execute(top)) {
    std::cout << "top: user " << row.get<std::int64_t>("user_id") << " total "
              << row.get<double>("total") << "\n";
  }

  // Users 1 and 2 live on different shards; on PostgreSQL this commits with two-phase commit.
  shards.transaction(
      [](ShardTransaction& tx) {
        tx.execute(update(Order).set(Order.total = Order.total - 5.0).where(Order.user_id == 1));
        tx.execute(update(Order).set(Order.total = Order.total + 5.0).where(Order.user_id == 2));
      },
      {.sqlite_best_effort = true});
  std::cout << "sum after the transfer: "
            << shards.execute(select(sum(Order.total)).from(Order)).scalar<double>() << "\n";
}
