// The seed's get_user_orders, working: models, schema, data, the typed query, a transaction.
//   example_get_user_orders [uri]      (default: the embedded SQLite database)
#include <nexdb/nexdb.hpp>

#include <iostream>

using namespace nexdb;

struct Users : Table<Users> {
  static constexpr std::string_view table_name = "users";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> email{this, "email"};
  Column<Timestamp> created_at{this, "created_at"};
};
inline const Users User;

struct Orders : Table<Orders> {
  static constexpr std::string_view table_name = "orders";
  Column<std::int64_t> id{this, "id"};
  Column<std::int64_t> user_id{this, "user_id"};
  Column<std::string> status{this, "status"};
  Column<double> total{this, "total"};
  Column<Timestamp> created_at{this, "created_at"};
};
inline const Orders Order;

Rows get_user_orders(Database& db, std::int64_t user_id) {
  return db.execute(select(Order.id, Order.status, Order.total)
                        .from(Order)
                        .join(User, Order.user_id == User.id)
                        .where(User.id == user_id)
                        .order_by(Order.created_at.desc())
                        .limit(100));
}

int main(int argc, char** argv) {
  try {
    Database db = Database::open(argc > 1 ? argv[1] : "");
    db.transaction([](Transaction& tx) {
      tx.execute("DROP TABLE IF EXISTS orders");
      tx.execute("DROP TABLE IF EXISTS users");
      tx.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT UNIQUE NOT NULL, created_at TIMESTAMP)");
      tx.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),"
                 " status TEXT NOT NULL, total DOUBLE PRECISION NOT NULL, created_at TIMESTAMP NOT NULL)");
      const Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
      tx.execute(insert_into(User).columns(User.id, User.email, User.created_at)
                     .values(1, "ada@example.com", now)
                     .values(2, "grace@example.com", now));
      tx.execute(insert_into(Order).columns(Order.id, Order.user_id, Order.status, Order.total, Order.created_at)
                     .values(10, 2, "paid", 25.5, now - std::chrono::hours(2))
                     .values(11, 2, "new", 12.0, now)
                     .values(12, 1, "paid", 99.0, now));
    });
    const Rows orders = get_user_orders(db, 2);
    std::cout << "user 2 has " << orders.size() << " orders, newest first:\n";
    for (Row row : orders) {
      std::cout << "  #" << row.get<std::int64_t>("id") << "  " << row.get<std::string>("status") << "  "
                << row.get<double>("total") << "\n";
    }
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
