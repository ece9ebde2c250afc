// The seed's world: users and their orders, declared once for queries and DDL.
#pragma once

#include <nexdb/nexdb.hpp>

namespace nexdb::cli {

struct Users : Table<Users> {
  static constexpr std::string_view table_name = "users";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> email{this, "email"};
  Column<std::optional<std::string>> status{this, "status"};
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

/// The seed's query, nearly verbatim.
inline auto get_user_orders(std::int64_t user_id) {
  return select(Order.id, Order.status, Order.total)
      .from(Order)
      .join(User, Order.user_id == User.id)
      .where(User.id == user_id)
      .order_by(Order.created_at.desc())
      .limit(100);
}

}  // namespace nexdb::cli
