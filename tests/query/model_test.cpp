// Models: names, quoting, column registry and validation at construction.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "models.hpp"
#include "nexdb/error.hpp"

namespace nexdb::test {
namespace {

struct EmptyName : Table<EmptyName> {
  static constexpr std::string_view table_name = "";
};
struct ControlInTableName : Table<ControlInTableName> {
  static constexpr std::string_view table_name = "bad\nname";
};
struct ControlInColumnName : Table<ControlInColumnName> {
  static constexpr std::string_view table_name = "t";
  Column<std::int64_t> id{this,
                          "i\x01"
                          "d"};
};
struct LongColumnName : Table<LongColumnName> {
  static constexpr std::string_view table_name = "t";
  Column<std::int64_t> id{this, std::string(64, 'c')};
};
struct LongestNames : Table<LongestNames> {
  static constexpr std::string_view table_name =
      "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt";  // 63 bytes
  Column<std::int64_t> id{this, std::string(63, 'c')};
};

TEST(Model, TableNames) {
  EXPECT_EQ(User.name(), "users");
  EXPECT_EQ(User.quoted_name(), R"("users")");
  EXPECT_EQ(Odd.quoted_name(), R"("my table")");
}

TEST(Model, ColumnNames) {
  EXPECT_EQ(User.email.name(), "email");
  EXPECT_EQ(User.email.qualified_name(), R"("users"."email")");
  EXPECT_EQ(User.email.quoted_name(), R"("email")");
  EXPECT_EQ(Odd.quoted.qualified_name(), R"("my table"."say ""hi""")");
  EXPECT_EQ(Odd.quoted.quoted_name(), R"("say ""hi""")");
  EXPECT_EQ(&User.email.table(), &User);
}

TEST(Model, ColumnsInDeclarationOrder) {
  ASSERT_EQ(User.columns().size(), 4u);
  EXPECT_EQ(User.columns()[0], &User.id);
  EXPECT_EQ(User.columns()[3], &User.created_at);
  EXPECT_EQ(&Order.column("total"), &Order.total);
  EXPECT_THROW((void)Order.column("nope"), ColumnNotFound);
}

TEST(Model, InvalidNamesThrowAtConstruction) {
  EXPECT_THROW(EmptyName{}, UsageError);
  EXPECT_THROW(ControlInTableName{}, UsageError);
  EXPECT_THROW(ControlInColumnName{}, UsageError);
  EXPECT_THROW(LongColumnName{}, UsageError);
  EXPECT_NO_THROW(LongestNames{});
}

TEST(Model, InvalidAliasThrows) {
  EXPECT_THROW(User.id.as(""), UsageError);
  EXPECT_THROW(count().as("a\tb"), UsageError);
  EXPECT_NO_THROW(User.id.as("select"));
}

TEST(Model, ColumnCopiesKeepTheirTable) {
  const auto email = User.email;
  EXPECT_EQ(&email.table(), &User);
  EXPECT_EQ(select(email).from(User).where(email == "a").render(Dialect::postgres).sql,
            R"(SELECT "users"."email" FROM "users" WHERE "users"."email" = $1)");
}

}  // namespace
}  // namespace nexdb::test
