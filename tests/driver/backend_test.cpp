// Behaviour both backends share: values, binding, prepared statements, errors.
#include "backend_fixture.hpp"
#include "nexdb/error.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono;

TEST_P(BackendTest, RoundTripsEveryValueType) {
  conn->execute_script(
      "CREATE TABLE t (b BOOLEAN, i BIGINT, d DOUBLE PRECISION, s TEXT, y " +
      std::string(postgres() ? "BYTEA" : "BLOB") + ", ts TIMESTAMP, n TEXT)");
  const Timestamp ts = sys_days(2024y / January / 2) + 3h + 4min + 5s + 678901us;
  const Bytes bytes{std::byte{0}, std::byte{0xff}, std::byte{'\''}};
  const std::string sql = "INSERT INTO t VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) +
                          ", " + p(5) + ", " + p(6) + ", " + p(7) + ")";
  auto inserted = conn->execute(sql, true, std::int64_t{1} << 40, 2.5, "héllo", bytes, ts, null);
  EXPECT_EQ(inserted.affected_rows(), 1);
  Rows rows = conn->execute("SELECT b, i, d, s, y, ts, n FROM t");
  ASSERT_EQ(rows.size(), 1u);
  Row row = rows.front();
  EXPECT_TRUE(row.get<bool>("b"));
  EXPECT_EQ(row.get<std::int64_t>("i"), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(row.get<double>("d"), 2.5);
  EXPECT_EQ(row.get<std::string>("s"), "héllo");
  EXPECT_EQ(row.get<Bytes>("y"), bytes);
  EXPECT_EQ(row.get<Timestamp>("ts"), ts);
  EXPECT_EQ(row.get<std::optional<std::string>>("n"), std::nullopt);
  EXPECT_THROW((void)row.get<std::string>("n"), TypeMismatch);
  EXPECT_THROW((void)row.get<std::int64_t>("s"), TypeMismatch);
  EXPECT_THROW((void)row.get<std::int64_t>("nope"), ColumnNotFound);
}

TEST_P(BackendTest, InjectionStringsAreBoundNotInterpolated) {
  conn->execute_script("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
  const std::string evil = "x'); DROP TABLE users; --";
  conn->execute("INSERT INTO users (id, email) VALUES (1, " + p(1) + ")", evil);
  EXPECT_EQ(conn->execute("SELECT email FROM users WHERE email = " + p(1), evil).scalar<std::string>(), evil);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM users").scalar<std::int64_t>(), 1);
}

TEST_P(BackendTest, PreparedStatementsByName) {
  conn->execute_script("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)");
  conn->prepare("put", "INSERT INTO kv (k, v) VALUES (" + p(1) + ", " + p(2) + ")");
  for (int i = 0; i < 5; ++i) {
    const Value params[] = {Value("k" + std::to_string(i)), Value(i * 10)};
    EXPECT_EQ(conn->execute_prepared("put", params).affected_rows(), 1);
  }
  conn->prepare("get", "SELECT v FROM kv WHERE k = " + p(1));
  const Value key[] = {Value("k3")};
  EXPECT_EQ(conn->execute_prepared("get", key).scalar<std::int64_t>(), 30);
  EXPECT_THROW(conn->execute_prepared("missing", key), UsageError);
}

TEST_P(BackendTest, StatementCacheSurvivesSchemaChanges) {
  conn->execute_script("CREATE TABLE c (a INTEGER)");
  conn->execute("INSERT INTO c VALUES (1)");
  EXPECT_EQ(conn->execute("SELECT * FROM c").column_count(), 1u);
  conn->execute_script("ALTER TABLE c ADD COLUMN b INTEGER");
  EXPECT_EQ(conn->execute("SELECT * FROM c").column_count(), 2u);
  // Same shape, new name: results must not reuse the old column names.
  conn->execute_script("ALTER TABLE c RENAME COLUMN a TO z");
  const Rows renamed = conn->execute("SELECT * FROM c");
  EXPECT_EQ(renamed.columns(), (std::vector<std::string>{"z", "b"}));
  EXPECT_EQ(renamed[0].get<std::int64_t>("z"), 1);
}

TEST_P(BackendTest, ManyParametersAreBound) {
  std::string sql = "SELECT ";
  std::vector<Value> params;
  for (int i = 1; i <= 20; ++i) {
    sql += (i > 1 ? " + " : "") + std::string(postgres() ? "CAST(" : "") + p(i) + (postgres() ? " AS BIGINT)" : "");
    params.emplace_back(i * 1000000007LL);
  }
  EXPECT_EQ(conn->execute(Statement{sql, params}).scalar<std::int64_t>(), 210 * 1000000007LL);
}

TEST_P(BackendTest, ConstraintViolationsAreTyped) {
  conn->execute_script(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id),"
      " qty INTEGER CHECK (qty > 0), email TEXT UNIQUE)");
  conn->execute("INSERT INTO parent VALUES (1)");
  conn->execute("INSERT INTO child VALUES (1, 1, 1, 'secret@example.com')");
  try {
    conn->execute("INSERT INTO child VALUES (2, 1, 1, " + p(1) + ")", "secret@example.com");
    FAIL() << "expected UniqueViolation";
  } catch (const UniqueViolation& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_FALSE(e.host().empty());
    // The duplicated value is not echoed into the message.
    EXPECT_EQ(std::string(e.what()).find("secret@example.com"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conn->execute("INSERT INTO child VALUES (3, 99, 1, 'b')"), ForeignKeyViolation);
  EXPECT_THROW(conn->execute("INSERT INTO child VALUES (4, NULL, 1, 'c')"), NotNullViolation);
  EXPECT_THROW(conn->execute("INSERT INTO child VALUES (5, 1, 0, 'd')"), CheckViolation);
  EXPECT_EQ(conn->execute("SELECT count(*) FROM child").scalar<std::int64_t>(), 1);
}

TEST_P(BackendTest, SqlErrorsCarryStatementAndSqlstate) {
  try {
    conn->execute("SELEC 1");
    FAIL() << "expected SqlError";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_EQ(e.statement(), "SELEC 1");
  }
  try {
    conn->execute("SELECT * FROM no_such_table");
    FAIL() << "expected SqlError";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "42P01");
  }
  // The connection stays usable after an error.
  EXPECT_EQ(conn->execute("SELECT 1 + 1").scalar<std::int64_t>(), 2);
  EXPECT_TRUE(conn->ping());
  EXPECT_FALSE(conn->is_broken());
}

TEST_P(BackendTest, StatementTimeoutIsATimeoutError) {
  auto slow = open({.statement_timeout = milliseconds(100)});
  const std::string sql = postgres()
                              ? "SELECT pg_sleep(5)"
                              : "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                                "SELECT count(*) FROM r";
  const auto start = steady_clock::now();
  EXPECT_THROW(slow->execute(sql), TimeoutError);
  EXPECT_LT(steady_clock::now() - start, seconds(4));
  EXPECT_EQ(slow->execute("SELECT 7").scalar<std::int64_t>(), 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendTest, ::testing::Values(Dialect::sqlite, Dialect::postgres),
                         backend_name);

}  // namespace
}  // namespace nexdb::test
