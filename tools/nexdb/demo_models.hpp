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

}  // namespace nexdb::cli
