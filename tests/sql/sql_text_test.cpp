#include "nexdb/sql_text.hpp"

#include <gtest/gtest.h>

#include "nexdb/error.hpp"

namespace nexdb::sql {
namespace {

TEST(SqlText, FingerprintIgnoresConstantsWhitespaceAndComments) {
  const auto a = fingerprint("SELECT * FROM users WHERE id = 1");
  const auto b = fingerprint("select *\n  from users -- who\n where id = 42");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hex.size(), 16u);
  EXPECT_NE(a, fingerprint("SELECT * FROM users WHERE email = 'x'"));
}

TEST(SqlText, FingerprintOfBadSqlIsASyntaxErrorWithThePosition) {
  try {
    fingerprint("SELEC * FROM users");
    FAIL() << "no error";
  } catch (const SqlError& error) {
    EXPECT_EQ(error.sqlstate(), "42601");
    EXPECT_NE(std::string(error.what()).find("at character 1"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(try_fingerprint("SELEC 1").has_value());
  EXPECT_TRUE(try_fingerprint("SELECT 1").has_value());
}

TEST(SqlText, NormalizeReplacesConstantsWithParameters) {
  EXPECT_EQ(normalize("SELECT * FROM t WHERE a = 1 AND b = 'x'"),
            "SELECT * FROM t WHERE a = $1 AND b = $2");
  EXPECT_EQ(normalize_any("INSERT OR IGNORE INTO t VALUES (1, 'it''s',  2.5)"),
            "INSERT OR IGNORE INTO t VALUES (?, ?, ?)");
  // PostgreSQL-parsable text keeps its layout; only constants change.
  EXPECT_EQ(normalize_any("SELECT  col1 FROM t2 WHERE x=3"), "SELECT  col1 FROM t2 WHERE x=$1");
}

// What monitoring puts in labels: the shape, never a literal or a comment's content, even for
// text PostgreSQL's parser rejects (SQLite syntax, a query cut short by track_activity_query_size).
TEST(SqlText, NormalizeAnyKeepsNoLiteralOrComment) {
  EXPECT_EQ(normalize_any("ALTER ROLE bob PASSWORD 'hunter2'"), "ALTER ROLE bob PASSWORD $1");
  EXPECT_EQ(normalize_any("SELECT /* pw hunter2 */ 1 -- hunter2\n FROM t"), "SELECT  $1  FROM t");
  EXPECT_EQ(normalize_any("SELECT 1 /* a /* nested */ hunter2 */"), "SELECT $1");
  EXPECT_EQ(normalize_any("INSERT OR REPLACE INTO t VALUES (E'it\\'s hunter2', 1) -- x"),
            "INSERT OR REPLACE INTO t VALUES (?, ?)");
  EXPECT_EQ(normalize_any("INSERT OR REPLACE INTO t VALUES ($tag$hunter2$tag$, $1, $name)"),
            "INSERT OR REPLACE INTO t VALUES (?, $1, $name)");
  EXPECT_EQ(normalize_any("INSERT INTO t VALUES ('hunter2"), "INSERT INTO t VALUES (?");
  EXPECT_EQ(normalize_any("INSERT INTO t VALUES ($$hunter2"), "INSERT INTO t VALUES (?");
  EXPECT_EQ(normalize_any("SELECT \"we--ird\" FROM t WHERE x = 'a--b' /* hunter2"),
            "SELECT \"we--ird\" FROM t WHERE x = ?");  // the parser rejects it: fallback
  EXPECT_EQ(without_comments("SELECT '--' || $$/*$$ -- c\n FROM t"),
            "SELECT '--' || $$/*$$  FROM t");
}

TEST(SqlText, ParseTreeIsJson) {
  const auto tree = parse_tree_json("SELECT id FROM users WHERE id = $1");
  EXPECT_NE(tree.find("\"SelectStmt\""), std::string::npos);
  EXPECT_NE(tree.find("\"users\""), std::string::npos);
  EXPECT_THROW(parse_tree_json("SELECT FROM WHERE"), SqlError);
}

TEST(SqlText, SplitRespectsStringsAndDollarQuotes) {
  const auto statements = split_statements(
      "CREATE TABLE a (x text DEFAULT ';'); DO $$ BEGIN PERFORM 1; END $$;\n SELECT 1");
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0], "CREATE TABLE a (x text DEFAULT ';')");
  EXPECT_EQ(statements[2], "SELECT 1");
}

}  // namespace
}  // namespace nexdb::sql
