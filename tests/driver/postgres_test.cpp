// PostgreSQL specifics: result formats, libpq conventions, failures of a real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "backend_fixture.hpp"
#include "nexdb/error.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono;

class PostgresTest : public ::testing::TestWithParam<ResultFormat> {};

TEST_P(PostgresTest, DecodesServerTypesInBothResultFormats) {
  auto conn = connect({.uri = pg_primary_uri(), .result_format = GetParam()});
  Rows rows = conn->execute(
      "SELECT true AS b, 7::int2 AS i2, 70000::int4 AS i4, 9000000000::int8 AS i8, 1.5::float4 AS f4,"
      " 2.25::float8 AS f8, 'txt'::text AS t, 'vc'::varchar AS vc, '\\x00ff'::bytea AS y,"
      " '2024-01-02 03:04:05.678901'::timestamp AS ts,"
      " '2024-01-02 03:04:05.678901+02'::timestamptz AS tz, '2024-01-02'::date AS d,"
      " 12345678901234567890.0120::numeric AS n, 0.0005::numeric AS small, -3::numeric AS neg,"
      " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, NULL::int AS nul,"
      " '1 day'::interval AS iv, ARRAY[1,2] AS arr");
  Row r = rows.front();
  EXPECT_TRUE(r.get<bool>("b"));
  EXPECT_EQ(r.get<std::int16_t>("i2"), 7);
  EXPECT_EQ(r.get<std::int32_t>("i4"), 70000);
  EXPECT_EQ(r.get<std::int64_t>("i8"), 9000000000);
  EXPECT_FLOAT_EQ(r.get<float>("f4"), 1.5f);
  EXPECT_DOUBLE_EQ(r.get<double>("f8"), 2.25);
  EXPECT_EQ(r.get<std::string>("t"), "txt");
  EXPECT_EQ(r.get<std::string>("vc"), "vc");
  EXPECT_EQ(r.get<Bytes>("y"), (Bytes{std::byte{0}, std::byte{0xff}}));
  const Timestamp ts = sys_days(2024y / January / 2) + 3h + 4min + 5s + 678901us;
  EXPECT_EQ(r.get<Timestamp>("ts"), ts);
  EXPECT_EQ(r.get<Timestamp>("tz"), ts - 2h);
  EXPECT_EQ(r.get<Timestamp>("d"), Timestamp(sys_days(2024y / January / 2)));
  EXPECT_EQ(r.get<std::string>("n"), "12345678901234567890.0120");
  EXPECT_EQ(r.get<std::string>("small"), "0.0005");
  EXPECT_EQ(r.get<std::string>("neg"), "-3");
  EXPECT_EQ(r.get<std::string>("u"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(r["nul"].is_null());
  EXPECT_EQ(r.get<std::string>("iv"), "1 day");
  EXPECT_EQ(r.get<std::string>("arr"), "{1,2}");
}

INSTANTIATE_TEST_SUITE_P(Formats, PostgresTest, ::testing::Values(ResultFormat::text, ResultFormat::binary),
                         [](const auto& info) { return info.param == ResultFormat::text ? "text" : "binary"; });

TEST(Postgres, UsesLibpqEnvironmentVariables) {
  ::setenv("PGHOST", "127.0.0.1", 1);
  ::setenv("PGPORT", std::to_string(pg_base_port()).c_str(), 1);
  ::setenv("PGUSER", "nexdb", 1);
  ::setenv("PGDATABASE", "nexdb", 1);
  auto conn = connect("postgresql://");
  EXPECT_EQ(conn->execute("SELECT current_user").scalar<std::string>(), "nexdb");
  EXPECT_EQ(conn->description(), "127.0.0.1:" + std::to_string(pg_base_port()) + "/nexdb");
  for (const char* v : {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE"}) ::unsetenv(v);
}

TEST(Postgres, BadCredentialsNeverLeakThePassword) {
  const std::string uri = "postgresql://nexdb_secret:wrong-password-123@127.0.0.1:" +
                          std::to_string(pg_base_port()) + "/nexdb";
  try {
    (void)connect(uri);
    FAIL() << "expected AuthenticationError";
  } catch (const AuthenticationError& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-password-123"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos);
  }
  auto good = connect("postgresql://nexdb_secret:nexdb-secret-pw@127.0.0.1:" +
                      std::to_string(pg_base_port()) + "/nexdb");
  EXPECT_EQ(good->execute("SELECT current_user").scalar<std::string>(), "nexdb_secret");
}

TEST(Postgres, UnreachableHostIsAConnectionErrorNamingTheHost) {
  const std::string port = std::to_string(closed_port());
  try {
    (void)connect("postgresql://nexdb@127.0.0.1:" + port + "/nexdb");
    FAIL() << "expected ConnectionError";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + port), std::string::npos) << e.what();
    EXPECT_EQ(e.host(), "127.0.0.1:" + port + "/nexdb");
  }
}

TEST(Postgres, SilentServerHitsTheConnectTimeout) {
  // A socket that accepts TCP connections (the kernel does) but never answers the startup packet.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto start = steady_clock::now();
  EXPECT_THROW(connect({.uri = "postgresql://nexdb@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/nexdb",
                        .connect_timeout = milliseconds(1000)}),
               ConnectTimeout);
  EXPECT_LT(steady_clock::now() - start, seconds(10));
  ::close(listener);
}

TEST(Postgres, TerminatedBackendSurfacesAsConnectionLost) {
  auto victim = connect(pg_primary_uri());
  auto admin = connect(pg_primary_uri());
  const auto pid = victim->execute("SELECT pg_backend_pid()").scalar<std::int64_t>();
  admin->execute("SELECT pg_terminate_backend($1)", pid);
  try {
    victim->execute("SELECT 1");
    FAIL() << "expected ConnectionLost";
  } catch (const ConnectionLost& e) {
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_TRUE(victim->is_broken());
  EXPECT_FALSE(victim->ping());
}

TEST(Postgres, DeadlockIsRetryable) {
  PgSchema schema;
  auto a = connect(schema.uri());
  auto b = connect(schema.uri());
  a->execute_script("CREATE TABLE acct (id INT PRIMARY KEY, n INT); INSERT INTO acct VALUES (1, 0), (2, 0)");
  Transaction ta(*a);
  Transaction tb(*b);
  ta.execute("UPDATE acct SET n = n + 1 WHERE id = 1");
  tb.execute("UPDATE acct SET n = n + 1 WHERE id = 2");
  std::exception_ptr from_a;
  std::thread t([&] {
    try {
      ta.execute("UPDATE acct SET n = n + 1 WHERE id = 2");
    } catch (...) {
      from_a = std::current_exception();
    }
  });
  std::exception_ptr from_b;
  try {
    tb.execute("UPDATE acct SET n = n + 1 WHERE id = 1");
  } catch (...) {
    from_b = std::current_exception();
  }
  if (from_b) tb.rollback(); // frees a's lock wait if b was the victim
  t.join();
  ASSERT_TRUE((from_a == nullptr) != (from_b == nullptr)) << "exactly one side is the victim";
  try {
    std::rethrow_exception(from_a ? from_a : from_b);
  } catch (const DeadlockDetected& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_EQ(e.sqlstate(), "40P01");
  }
}

TEST(Postgres, SerializationFailureIsRetryable) {
  PgSchema schema;
  auto a = connect(schema.uri());
  auto b = connect(schema.uri());
  a->execute_script("CREATE TABLE s (id INT PRIMARY KEY, n INT); INSERT INTO s VALUES (1, 0)");
  Transaction ta(*a, {.isolation = IsolationLevel::repeatable_read});
  Transaction tb(*b, {.isolation = IsolationLevel::repeatable_read});
  EXPECT_EQ(ta.execute("SELECT n FROM s WHERE id = 1").scalar<std::int64_t>(), 0);
  EXPECT_EQ(tb.execute("SELECT n FROM s WHERE id = 1").scalar<std::int64_t>(), 0);
  ta.execute("UPDATE s SET n = 1 WHERE id = 1");
  ta.commit();
  EXPECT_THROW(tb.execute("UPDATE s SET n = 2 WHERE id = 1"), SerializationFailure);
}

}  // namespace
}  // namespace nexdb::test
