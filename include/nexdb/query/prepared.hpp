// Prepared builder queries: build and render a query once, then run it many times with new
// values, as sqlpp11's prepare() and jOOQ's bind() do.
//
//   const auto find_orders = nexdb::prepare<std::int64_t>([](auto user_id) {
//     return select(Order.id, Order.total).from(Order).where(Order.user_id == user_id);
//   });
//   Rows rows = db.execute(find_orders(42));
//
// The lambda receives one Parameter<T> per type given to prepare(); a parameter stands
// wherever a value of type T may (comparisons, in(), like(), between(), insert values, update
// assignments) and is type-checked like one. Running a prepared query copies its rendered text
// and values and puts the arguments in place: no building, no rendering.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "nexdb/query/types.hpp"
#include "nexdb/value.hpp"

namespace nexdb {

/// Argument `index` of a prepared query, of type T (std::optional<U> for a nullable one).
/// Only prepare() makes parameters.
template <class T>
class Parameter {
 public:
  using value_type = T;
  static_assert(detail::is_storage_type_v<detail::unoptional_t<T>>,
                "nexdb: a Parameter holds bool, an integer, a floating-point type, "
                "std::string, Bytes or Timestamp (optionally in std::optional)");

  std::size_t index() const noexcept { return index_; }

 private:
  template <class... Args>
  friend class PreparedQuery;
  explicit Parameter(std::size_t index) : index_(index) {}
  std::size_t index_;
};

namespace detail {

/// A query rendered for one dialect with its parameters' places: params[slot] takes argument
/// arg_of[slot].
struct PreparedShape {
  Statement statement;
  std::vector<std::uint32_t> slots;
  std::vector<std::uint32_t> arg_of;
  std::vector<bool> last_use;  // the argument's last slot: it may be moved there
};

/// Finds the parameter markers in `rendered` (throwing UsageError when an argument is never
/// used) and replaces them with NULL.
PreparedShape find_parameters(Statement rendered, std::size_t args);

/// Writes the statement with `args` in their places into `out`, reusing its buffers; each
/// argument is moved into its last place.
void bind_parameters(const PreparedShape& shape, Value* args, Statement& out);

struct PreparedShapes {
  PreparedShape postgres;
  PreparedShape sqlite;
  const PreparedShape& operator[](Dialect dialect) const {
    return dialect == Dialect::postgres ? postgres : sqlite;
  }
};

}  // namespace detail

/// A prepared query with its arguments: what PreparedQuery's call operator returns. Runs like
/// any builder query (db.execute(q), tx.execute(q), shards, replicas, the async API).
template <std::size_t N>
class BoundQuery {
 public:
  BoundQuery(std::shared_ptr<const detail::PreparedShapes> shapes, std::array<Value, N> args)
      : shapes_(std::move(shapes)), args_(std::move(args)) {}

  Statement render(Dialect dialect) const& {
    Statement statement;
    render_into(statement, dialect);
    return statement;
  }
  Statement render(Dialect dialect) && {
    Statement statement;
    std::move(*this).render_into(statement, dialect);
    return statement;
  }
  /// Into a Statement whose buffers are reused (StatementShortcuts::execute): no allocation once
  /// they have grown to this query's size.
  void render_into(Statement& out, Dialect dialect) const& {
    std::array<Value, N> copy = args_;
    detail::bind_parameters((*shapes_)[dialect], copy.data(), out);
  }
  void render_into(Statement& out, Dialect dialect) && {
    detail::bind_parameters((*shapes_)[dialect], args_.data(), out);
  }

 private:
  std::shared_ptr<const detail::PreparedShapes> shapes_;
  std::array<Value, N> args_;
};

/// A query built and rendered once, run with arguments of types Args... Immutable after
/// construction, so one PreparedQuery may be used from many threads.
template <class... Args>
class PreparedQuery {
 public:
  /// Calls `make(Parameter<Args>...)` once and renders what it returns for both dialects.
  /// Throws UsageError when an argument is not used in the query.
  template <class Make>
  explicit PreparedQuery(Make&& make)
      : PreparedQuery(std::forward<Make>(make), std::index_sequence_for<Args...>{}) {}

  /// The query with these arguments, ready for execute().
  template <class... A>
  requires(sizeof...(A) == sizeof...(Args) && (std::is_convertible_v<A&&, Args> && ...))
      [[nodiscard]] BoundQuery<sizeof...(Args)>
      operator()(A&&... args) const {
    return BoundQuery<sizeof...(Args)>(
        shapes_, {detail::make_value(static_cast<Args>(std::forward<A>(args)))...});
  }

  /// The SQL text for a dialect, with placeholders where the arguments go.
  const std::string& sql(Dialect dialect) const { return (*shapes_)[dialect].statement.sql; }

 private:
  template <class Make, std::size_t... I>
  PreparedQuery(Make&& make, std::index_sequence<I...>) {
    const auto query = std::forward<Make>(make)(Parameter<Args>(I)...);
    auto shapes = std::make_shared<detail::PreparedShapes>();
    shapes->postgres = detail::find_parameters(query.render(Dialect::postgres), sizeof...(Args));
    shapes->sqlite = detail::find_parameters(query.render(Dialect::sqlite), sizeof...(Args));
    shapes_ = std::move(shapes);
  }

  std::shared_ptr<const detail::PreparedShapes> shapes_;
};

/// `prepare<T1, T2...>(make)`: see the top of this file.
template <class... Args, class Make>
PreparedQuery<Args...> prepare(Make&& make) {
  return PreparedQuery<Args...>(std::forward<Make>(make));
}

}  // namespace nexdb
