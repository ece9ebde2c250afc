// Compile-time typing checked with static_assert: what composes and which SQL type results.
// (What must not compile at all is in compile_fail/, run as separate compiler invocations.)
#include <gtest/gtest.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "models.hpp"

namespace nexdb::test {
namespace {

using Id = decltype(User.id);
using Email = decltype(User.email);
using Status = decltype(User.status);
using Created = decltype(User.created_at);
using Total = decltype(Order.total);

template <class X>
using value_t = typename std::remove_cvref_t<X>::value_type;

// Comparisons: within a kind, and numeric with numeric.
static_assert(ComparableOperands<Id, int>);
static_assert(ComparableOperands<Id, double>);
static_assert(ComparableOperands<int, Id>);
static_assert(ComparableOperands<Total, Id>);
static_assert(ComparableOperands<Email, const char*>);
static_assert(ComparableOperands<Email, std::string>);
static_assert(ComparableOperands<Status, std::string_view>);
static_assert(ComparableOperands<Status, Email>);
static_assert(ComparableOperands<Created, Timestamp>);
static_assert(!ComparableOperands<Id, const char*>);
static_assert(!ComparableOperands<Email, int>);
static_assert(!ComparableOperands<Created, std::int64_t>);
static_assert(!ComparableOperands<Id, Email>);
static_assert(!ComparableOperands<Status, std::nullopt_t>);
static_assert(!ComparableOperands<Status, std::optional<std::string>>);
static_assert(!ComparableOperands<Id, char>);
static_assert(!ComparableOperands<int, int>);  // no expression at all: not ours

// Conditions.
static_assert(Condition<decltype(User.id == 1)>);
static_assert(Condition<decltype(Odd.flag)>);
static_assert(!Condition<Id>);
static_assert(!Condition<decltype(count())>);

// Result types.
static_assert(std::same_as<decltype(User.id == 1), Comparison>);  // lazy, for columns and values
static_assert(std::same_as<decltype(Order.user_id == User.id), Comparison>);
static_assert(std::same_as<decltype(Order.total * 2 == 1), Expr<bool>>);
static_assert(std::is_convertible_v<Comparison, Expr<bool>>);
static_assert(std::same_as<value_t<decltype(Order.user_id + 1)>, std::int64_t>);
static_assert(std::same_as<value_t<decltype(Order.user_id / 2)>, std::int64_t>);
static_assert(std::same_as<value_t<decltype(Order.total * 1.1)>, double>);
static_assert(std::same_as<value_t<decltype(Order.user_id * 1.5)>, double>);
static_assert(std::same_as<value_t<decltype(count())>, std::int64_t>);
static_assert(std::same_as<value_t<decltype(count(User.email))>, std::int64_t>);
static_assert(std::same_as<value_t<decltype(sum(Order.total))>, std::optional<double>>);
static_assert(std::same_as<value_t<decltype(sum(Order.user_id))>, std::optional<std::int64_t>>);
static_assert(std::same_as<value_t<decltype(avg(Order.user_id))>, std::optional<double>>);
static_assert(std::same_as<value_t<decltype(max(User.email))>, std::optional<std::string>>);
static_assert(std::same_as<value_t<decltype(min(User.created_at))>, std::optional<Timestamp>>);
static_assert(std::same_as<value_t<decltype(excluded(User.status))>, std::optional<std::string>>);
static_assert(std::same_as<value_t<decltype(sum(Order.total) + 1)>, std::optional<double>>);
static_assert(std::same_as<decltype(User.email = "x"), Assignment>);

// Assignability: kinds match, integers widen to real, nullopt only into nullable columns.
static_assert(detail::assignable_to<std::int64_t, int>());
static_assert(detail::assignable_to<double, int>());
static_assert(!detail::assignable_to<std::int64_t, double>());
static_assert(!detail::assignable_to<std::int64_t, const char*>());
static_assert(detail::assignable_to<std::optional<std::string>, std::nullopt_t>());
static_assert(detail::assignable_to<std::optional<std::string>, std::optional<std::string>>());
static_assert(!detail::assignable_to<std::string, std::nullopt_t>());
static_assert(!detail::assignable_to<std::string, std::optional<std::string>>());
static_assert(detail::assignable_to<double, decltype(Order.total * 2)>());
static_assert(!detail::assignable_to<std::string, decltype(Order.total * 2)>());

// What builders accept.
static_assert(SelectItem<decltype(User.id.as("x"))>);
static_assert(!SelectItem<int>);
static_assert(OrderItem<decltype(User.id.desc())>);
static_assert(!OrderItem<decltype(User.id.as("x"))>);

// Models are tied to their columns: no copies.
static_assert(!std::is_copy_constructible_v<Users>);

TEST(Typing, CheckedAtCompileTime) { SUCCEED(); }

}  // namespace
}  // namespace nexdb::test
