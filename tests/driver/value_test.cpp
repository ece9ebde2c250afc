#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "nexdb/rows.hpp"
#include "nexdb/value.hpp"

namespace nexdb {
namespace {

using namespace std::chrono;

TEST(Value, IntegersWidenAndNarrowWithRangeChecks) {
  Value v(std::int32_t{42});
  EXPECT_EQ(v.type(), ValueType::integer);
  EXPECT_EQ(v.as<std::int64_t>(), 42);
  EXPECT_EQ(v.as<std::int16_t>(), 42);
  EXPECT_DOUBLE_EQ(v.as<double>(), 42.0);
  EXPECT_THROW(Value(std::int64_t{1} << 40).as<std::int32_t>(), TypeMismatch);
  EXPECT_THROW(Value(-1).as<std::uint32_t>(), TypeMismatch);
}

TEST(Value, WrongTypeIsATypeMismatchNamingBothTypes) {
  try {
    (void)Value("abc").as<std::int64_t>();
    FAIL() << "expected TypeMismatch";
  } catch (const TypeMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("string"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos);
  }
}

TEST(Value, NullNeedsAnOptional) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.as<std::optional<std::string>>(), std::nullopt);
  EXPECT_THROW((void)v.as<std::string>(), TypeMismatch);
  EXPECT_EQ(Value(std::optional<int>{7}).as<std::int64_t>(), 7);
  EXPECT_TRUE(Value(std::optional<int>{}).is_null());
}

TEST(Value, BoolsReadFromSqliteIntegers) {
  EXPECT_TRUE(Value(1).as<bool>());
  EXPECT_FALSE(Value(0).as<bool>());
  EXPECT_THROW((void)Value(2).as<bool>(), TypeMismatch);
}

TEST(Timestamp, ParsesPostgresAndSqliteForms) {
  const Timestamp expected = sys_days(2024y / March / 5) + 13h + 4min + 5s + 123456us;
  EXPECT_EQ(parse_timestamp("2024-03-05 13:04:05.123456"), expected);
  EXPECT_EQ(parse_timestamp("2024-03-05T13:04:05.123456Z"), expected);
  EXPECT_EQ(parse_timestamp("2024-03-05 15:04:05.123456+02"), expected);
  EXPECT_EQ(parse_timestamp("2024-03-05 08:34:05.123456-04:30"), expected);
  EXPECT_EQ(parse_timestamp("2024-03-05 13:04:05"), expected - 123456us);
  EXPECT_EQ(parse_timestamp("2024-03-05 13:04:05.1"), expected - 23456us);
  EXPECT_EQ(parse_timestamp("2024-02-30 00:00:00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("yesterday"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-03-05 13:04:05 garbage"), std::nullopt);
}

TEST(Timestamp, FormatRoundTrips) {
  const Timestamp t = sys_days(1999y / December / 31) + 23h + 59min + 59s + 999999us;
  EXPECT_EQ(format_timestamp(t), "1999-12-31 23:59:59.999999+00");
  EXPECT_EQ(parse_timestamp(format_timestamp(t)), t);
}

TEST(Rows, TypedAccessByNameAndIndex) {
  Rows rows({"id", "email", "score"}, {Value(1), Value("a@x"), Value(), Value(2), Value("b@x"), Value(1.5)}, 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get<std::int64_t>("id"), 1);
  EXPECT_EQ(rows[1].get<std::string>(1), "b@x");
  // A view of the text the Rows holds: no copy, same characters.
  const std::string_view view = rows[1].get<std::string_view>("email");
  EXPECT_EQ(view, "b@x");
  EXPECT_EQ(view.data(), std::get<std::string>(rows.value(1, 1).storage()).data());
  EXPECT_THROW((void)rows[1].get<std::string_view>("id"), TypeMismatch);
  EXPECT_EQ(rows[0].get<std::optional<double>>("score"), std::nullopt);
  auto [id, email, score] = rows[1].as<std::int64_t, std::string, double>();
  EXPECT_EQ(id, 2);
  EXPECT_EQ(email, "b@x");
  EXPECT_DOUBLE_EQ(score, 1.5);
  int seen = 0;
  for (Row row : rows) seen += static_cast<int>(row.get<std::int64_t>("id"));
  EXPECT_EQ(seen, 3);
}

TEST(Rows, UnknownColumnListsTheColumnsThatExist) {
  Rows rows({"id", "email"}, {Value(1), Value("a@x")}, 1);
  try {
    (void)rows[0].get<std::string>("mail");
    FAIL() << "expected ColumnNotFound";
  } catch (const ColumnNotFound& e) {
    EXPECT_NE(std::string(e.what()).find("'mail'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("id, email"), std::string::npos);
  }
}

TEST(Rows, WrongTypeNamesTheColumn) {
  Rows rows({"email"}, {Value("a@x")}, 1);
  try {
    (void)rows[0].get<std::int64_t>("email");
    FAIL() << "expected TypeMismatch";
  } catch (const TypeMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("column 'email'"), std::string::npos);
  }
  EXPECT_THROW((void)rows[0].get<std::string>(5), ColumnNotFound);
  const Rows none;
  EXPECT_THROW((void)none.front(), UsageError);
}

}  // namespace
}  // namespace nexdb
