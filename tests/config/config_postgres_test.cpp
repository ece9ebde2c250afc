// A PostgreSQL cluster opened from a configuration file (needs scripts/pg-cluster).
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "nexdb/database.hpp"

namespace nexdb::test {
namespace {

TEST(ConfigPostgres, OpensTheClusterPrimaryWithItsSettings) {
  TempDir dir;
  const std::string path = write_file(dir, "nexdb.toml",
                                      "[connection]\napplication_name = \"nexdb-config-test\"\n"
                                      "statement_timeout_ms = 4321\n\n"
                                      "[clusters.main]\nprimary = \"" +
                                          pg_primary_uri() +
                                          "\"\n"
                                          "replicas = [\"" +
                                          pg_replica_uri(1) + "\", \"" + pg_replica_uri(2) +
                                          "\"]\n"
                                          "read_preference = \"nearest\"\n\n"
                                          "[clusters.main.pool]\nmax_size = 4\nmin_idle = 0\n");
  const Config config = Config::load(path);
  auto db = Database::open(config, "main");
  EXPECT_EQ(db.dialect(), Dialect::postgres);
  EXPECT_EQ(db.pool().settings().max_size, 4u);
  EXPECT_EQ(db.execute("SHOW application_name").scalar<std::string>(), "nexdb-config-test");
  EXPECT_EQ(db.execute("SHOW statement_timeout").scalar<std::string>(), "4321ms");
  EXPECT_EQ(db.execute("SELECT pg_is_in_recovery()").scalar<bool>(), false);  // the primary
  // The replicas named in the file are the cluster's streaming replicas.
  for (const auto& replica : config.cluster("main").replicas) {
    auto conn = connect(config.cluster("main").connect_options(replica));
    EXPECT_EQ(conn->execute("SELECT pg_is_in_recovery()").scalar<bool>(), true)
        << redact_password(replica);
  }
}

}  // namespace
}  // namespace nexdb::test
