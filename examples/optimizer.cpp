// The seed's optimizer: get_user_orders through a QueryOptimizer, the index it suggests, the
// IndexManager creating it.
//   example_optimizer [uri]      (default: the embedded SQLite database)
#include <nexdb/nexdb.hpp>

#include <iostream>

using namespace nexdb;

struct Users : Table<Users> {
  static constexpr std::string_view table_name = "users";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> email{this, "email"};
};
inline const Users User;

struct Orders : Table<Orders> {
  static constexpr std::string_view table_name = "orders";
  Column<std::int64_t> id{this, "id"};
  Column<std::int64_t> user_id{this, "user_id"};
  Column<std::string> status{this, "status"};
  Column<double> total{this, "total"};
  Column<std::int64_t> created_at{this, "created_at"};
};
inline const Orders Order;

void create_world(Database& db) {
  db.transaction([](Transaction& tx) {
    tx.execute("DROP TABLE IF EXISTS orders");
    tx.execute("DROP TABLE IF EXISTS users");
    tx.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL)");
    tx.execute(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status TEXT NOT "
        "NULL, "
        "total DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL)");
    for (std::int64_t first = 0; first < 20000; first += 500) {
      auto users = insert_into(User).columns(User.id, User.email);
      auto orders = insert_into(Order).columns(Order.id, Order.user_id, Order.status, Order.total,
                                               Order.created_at);
      for (std::int64_t i = first; i < first + 500; ++i) {
        if (i < 1000) users.values(i + 1, "user" + std::to_string(i + 1) + "@example.com");
        orders.values(i + 1, i % 1000 + 1, "paid", 9.5, i);
      }
      if (first < 1000) tx.execute(users);
      tx.execute(orders);
    }
  });
  db.execute("ANALYZE");
}

int main(int argc, char** argv) {
  try {
    Database db = Database::open(argc > 1 ? argv[1] : "");
    create_world(db);
    QueryOptimizer optimizer{db};
    auto get_user_orders = optimizer.optimize([](std::int64_t user_id) {
      return select(Order.id, Order.status, Order.total)
          .from(Order)
          .join(User, Order.user_id == User.id)
          .where(User.id == user_id)
          .order_by(Order.created_at.desc())
          .limit(100);
    });
    for (std::int64_t user = 1; user <= 100; ++user) (void)get_user_orders(user);
    for (const IndexSuggestion& s : optimizer.suggest_indexes()) {
      std::cout << "suggested " << s.table << " (";
      for (std::size_t i = 0; i < s.columns.size(); ++i)
        std::cout << (i ? ", " : "") << s.columns[i];
      std::cout << "): cost " << s.cost_before << " -> " << s.cost_after << " (" << s.cost_unit
                << ")\n";
      for (const IndexChange& change : IndexManager(db).create_index(s.definition)) {
        std::cout << to_string(change.action) << " on " << change.target << ": " << change.sql
                  << "\n";
      }
    }
    std::cout
        << optimizer.explain(select(Order.id).from(Order).where(Order.user_id == 7)).to_text();
    return 0;
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
