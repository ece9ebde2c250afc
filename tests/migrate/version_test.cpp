// MigrationVersion: parsing and semantic ordering (no database).
#include <gmock/gmock.h>

#include <algorithm>

#include "nexdb/migrate.hpp"

namespace nexdb {
namespace {

MigrationVersion v(std::string_view text) { return MigrationVersion::parse(text); }

TEST(MigrationVersion, OrdersNumericallyPartByPart) {
  EXPECT_LT(v("1.9.0"), v("1.10.0"));
  EXPECT_LT(v("1.2"), v("1.10"));
  EXPECT_LT(v("9"), v("10"));
  EXPECT_LT(v("1.2.3"), v("1.2.3.1"));
  EXPECT_LT(v("1"), v("1.0.1"));
  EXPECT_LT(v("2023.12.31.9"), v("2024.01.15.1"));
  EXPECT_LT(v("99999999999999999999999"), v("100000000000000000000000"));  // no overflow
  EXPECT_GT(v("2"), v("1.99.99"));
}

TEST(MigrationVersion, TrailingZerosAndLeadingZerosDoNotCount) {
  EXPECT_EQ(v("1.2"), v("1.2.0"));
  EXPECT_EQ(v("1.2"), v("1.02.0.0"));
  EXPECT_EQ(v("0"), v("0.0"));
  EXPECT_EQ(v("1.02").canonical(), "1.2");
  EXPECT_EQ(v("0.0").canonical(), "0");
  EXPECT_EQ(v("1.02").text(), "1.02");  // as written
  EXPECT_NE(v("1.2"), v("1.20"));
}

TEST(MigrationVersion, SortsAListTheWayPeopleExpect) {
  std::vector<MigrationVersion> versions{v("1.10.0"), v("1.9.0"), v("1.2"),
                                         v("2"),      v("1.2.1"), v("1")};
  std::sort(versions.begin(), versions.end());
  std::vector<std::string> texts;
  for (const auto& version : versions) texts.push_back(version.text());
  EXPECT_THAT(texts, ::testing::ElementsAre("1", "1.2", "1.2.1", "1.9.0", "1.10.0", "2"));
}

TEST(MigrationVersion, RejectsWhatIsNotAVersion) {
  for (std::string_view bad :
       {"", ".", "1.", ".1", "1..2", "1.a", "v1", "1-2", "1_2", " 1", "1.2 "}) {
    EXPECT_FALSE(MigrationVersion::try_parse(bad).has_value()) << "'" << bad << "'";
  }
  try {
    (void)v("1.a");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("'1.a' is not a migration version"));
  }
}

}  // namespace
}  // namespace nexdb
