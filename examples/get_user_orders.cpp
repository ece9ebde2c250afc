// The seed's get_user_orders, working: models, schema, data, the typed query, a transaction.
//   example_get_user_orders [uri]      (default: the embedded SQLite database)
#include <nexdb/nexdb.hpp>

#include <iostream>

#include "shop.hpp"

using namespace nexdb;

Rows get_user_orders(Database& db, std::int64_t user_id) {
  return db.execute(user_orders_query(user_id));
}

int main(int argc, char** argv) {
  try {
    Database db = Database::open(argc > 1 ? argv[1] : "");
    db.transaction([&](Transaction& tx) {
      for (const std::string& sql : schema_statements(db.dialect())) tx.execute(sql);
      const Timestamp now = now_utc();
      tx.execute(sample_users(now));
      tx.execute(sample_orders(now));
    });
    const Rows orders = get_user_orders(db, 2);
    std::cout << "user 2 has " << orders.size() << " orders, newest first:\n";
    for (Row row : orders) {
      std::cout << "  #" << row.get<std::int64_t>("id") << "  " << row.get<std::string>("status")
                << "  " << row.get<double>("total") << "\n";
    }
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
