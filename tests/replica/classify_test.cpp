// classify_sql: plain reads are reads, everything else (and anything unsure) is a write.
#include <gtest/gtest.h>

#include "nexdb/replica.hpp"

namespace nexdb {
namespace {

void expect_read(std::string_view sql) { EXPECT_EQ(classify_sql(sql), StatementKind::read) << sql; }
void expect_write(std::string_view sql) {
  EXPECT_EQ(classify_sql(sql), StatementKind::write) << sql;
}

TEST(ClassifySql, PlainReadsAreReads) {
  expect_read("SELECT 1");
  expect_read("  select id, email FROM users WHERE id = $1");
  expect_read("WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent");
  expect_read("VALUES (1), (2)");
  expect_read("TABLE users");
  expect_read("SELECT 1;");
  expect_read("-- comment\nSELECT /* block */ 1");
  expect_read("SHOW search_path");
  expect_read("SELECT substring(email FOR 3), lower(email), count(*) FROM users GROUP BY 1, 2");
  expect_read("SELECT pg_catalog.now(), date_trunc('day', created_at) FROM orders");
  expect_read("SELECT jsonb_build_object('a', 1), array_agg(id), pg_last_wal_replay_lsn() FROM t");
  expect_read("SELECT * FROM t WHERE id IN (SELECT user_id FROM orders WHERE total > $1)");
}

TEST(ClassifySql, WritesAndDdlAreWrites) {
  expect_write("INSERT INTO t VALUES (1)");
  expect_write("UPDATE t SET a = 1");
  expect_write("DELETE FROM t");
  expect_write("CREATE TABLE t (a int)");
  expect_write("BEGIN");
  expect_write("SET search_path = x");
  expect_write("EXPLAIN ANALYZE DELETE FROM t");
  expect_write("");
}

TEST(ClassifySql, LockingAndSelectIntoAreWrites) {
  expect_write("SELECT * FROM t FOR UPDATE");
  expect_write("SELECT * FROM t FOR SHARE");
  expect_write("SELECT * FROM t for no key update");
  expect_write("SELECT * INTO copy FROM t");
}

TEST(ClassifySql, DataModifyingCtesAreWrites) {
  expect_write("WITH moved AS (DELETE FROM a RETURNING *) SELECT * FROM moved");
  expect_write("WITH n AS (INSERT INTO a VALUES (1) RETURNING id) SELECT id FROM n");
  expect_write("with u as (update a set x = 1 returning *) select 1");
}

TEST(ClassifySql, SideEffectFunctionsAreWrites) {
  expect_write("SELECT nextval('seq')");
  expect_write("SELECT setval('seq', 5)");
  expect_write("SELECT pg_advisory_lock(1)");
  expect_write("SELECT pg_try_advisory_xact_lock(1)");
  expect_write("SELECT set_config('a.b', 'c', false)");
  expect_write("SELECT pg_notify('ch', 'x')");
  expect_write("SELECT txid_current()");
  expect_write("SELECT lo_create(0)");
  // A function the classifier does not know may write: when unsure, the primary.
  expect_write("SELECT my_app.archive_old_orders()");
  expect_write("SELECT refresh_cache(42)");
  expect_write("SELECT count(*) FROM t WHERE id = my_counter_bump()");
  expect_write("SELECT myschema.lower(x) FROM t");
}

TEST(ClassifySql, LockingInASubqueryIsAWrite) {
  expect_write("SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE SKIP LOCKED)");
}

TEST(ClassifySql, SeveralStatementsAreWrites) {
  expect_write("SELECT 1; DELETE FROM t");
  expect_write("SELECT 1; SELECT 2");
}

TEST(ClassifySql, LiteralsAndCommentsDoNotConfuseIt) {
  expect_read("SELECT 'insert into; delete' AS s");
  expect_read("SELECT \"update\" FROM t");
  expect_read("SELECT $$ drop table t; $$");
  expect_read("SELECT $tag$ ; delete $tag$");
  expect_read("SELECT 1 -- ; DELETE FROM t");
  expect_read("SELECT 'it''s; fine'");
  expect_read("SELECT /* nested /* comments */ nest */ 1");  // as PostgreSQL's lexer says
}

TEST(ClassifySql, UnsureIsAWrite) {
  expect_write("SELECT 'unterminated");
  expect_write("SELECT /* unterminated");
  expect_write("SELECT $x$ unterminated");
  expect_write("SELEKT 1");
  expect_write("SELECT 1 FROM");
}

}  // namespace
}  // namespace nexdb
