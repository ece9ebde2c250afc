// The seed's models, shared by the query tests and the compile-fail snippets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nexdb/query.hpp"

namespace nexdb::test {

struct Users : Table<Users> {
  static constexpr std::string_view table_name = "users";
  Column<std::int64_t> id{this, "id"};
  Column<std::string> email{this, "email"};
  Column<std::optional<std::string>> status{this, "status"};  // nullable column
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

/// The seed's query, verbatim, for a user id that is a value or a prepared query's Parameter.
template <class UserId>
SelectQuery get_user_orders_of(UserId user_id) {
  return select(Order.id, Order.status, Order.total)
      .from(Order)
      .join(User, Order.user_id == User.id)
      .where(User.id == user_id)
      .order_by(Order.created_at.desc())
      .limit(100);
}
inline SelectQuery get_user_orders(std::int64_t user_id) { return get_user_orders_of(user_id); }

/// Names that must be quoted: a keyword, an embedded quote, spaces and punctuation.
struct Weird : Table<Weird> {
  static constexpr std::string_view table_name = "my table";
  Column<std::int64_t> select{this, "select"};
  Column<std::string> quoted{this, "say \"hi\""};
  Column<std::optional<bool>> flag{this, "x;--"};
  Column<Bytes> blob{this, "blob"};
};
inline const Weird Odd;

}  // namespace nexdb::test
