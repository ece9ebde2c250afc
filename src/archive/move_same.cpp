// Same database: each batch is one transaction that moves the rows and advances the
// checkpoint together. On PostgreSQL the move is one statement,
//   WITH batch AS (SELECT key ... ORDER BY key LIMIT n),
//        moved AS (DELETE ... WHERE key = ANY(ARRAY(SELECT key FROM batch)) ... RETURNING ...)
//   INSERT INTO archive SELECT ... FROM moved
// and the DELETE re-checks the condition, so a row updated meanwhile so that it no longer
// matches stays where it is.
#include <fmt/format.h>

#include "archive/mover.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::archive_detail {
namespace {

class SameDatabaseMover final : public Mover {
 public:
  SameDatabaseMover(Database database, Job& job)
      : database_(std::move(database)), lease_(database_.connection()), job_(job) {}

  std::optional<Checkpoint> load() override {
    TableCheckpoints checkpoints(*lease_);
    checkpoints.create_if_missing();
    return checkpoints.load(job_.settings.job);
  }

  // A batch is one transaction here: there is never one half done.
  void recover(Checkpoint&) override {}

  void begin(Checkpoint& checkpoint, bool) override {
    prepare_destination(*lease_, job_.source, job_.destination, false);
    save(checkpoint);
  }

  void save(const Checkpoint& checkpoint) override { TableCheckpoints(*lease_).save(checkpoint); }

  std::string destination() const override { return job_.destination.text; }

  BatchResult move(Checkpoint& checkpoint, std::size_t limit) override {
    Transaction tx(*lease_);
    const Moved batch = lease_->dialect() == Dialect::postgres
                            ? move_postgres(tx, checkpoint, limit)
                            : move_sqlite(tx, checkpoint, limit);
    if (batch.selected > 0) {
      checkpoint.last_key = batch.last;
      checkpoint.rows_moved += batch.moved;
      checkpoint.batches += 1;
      TableCheckpoints(*lease_).save(checkpoint);
    }
    tx.commit();
    return {.rows = batch.moved, .exhausted = batch.selected < limit};
  }

  std::vector<std::string> statements(const Checkpoint& checkpoint,
                                      std::size_t limit) const override {
    if (lease_->dialect() == Dialect::postgres)
      return {postgres_statement(checkpoint.last_key, limit).sql};
    const auto [insert, erase] = sqlite_statements(checkpoint.last_key, Value(std::int64_t{0}));
    return {select_batch(job_, Dialect::sqlite, checkpoint.last_key, limit).sql, insert.sql,
            erase.sql};
  }

 private:
  struct Moved {
    std::uint64_t selected = 0;  // keys the batch took; fewer than the limit: nothing left
    std::uint64_t moved = 0;     // rows archived (a row the re-check rejects stays, not moved)
    std::optional<Value> last{};
  };

  Statement postgres_statement(const std::optional<Value>& after, std::size_t limit) const {
    Filter f = batch_filter(job_, Dialect::postgres, after);
    const auto& s = job_.source;
    // The DELETE finds the batch through the key's index (= ANY(ARRAY(...)): a join with the CTE
    // gets a hash join over the whole table, the CTE's size being unknown to the planner) and
    // re-checks the condition on the row it locks.
    return {
        fmt::format("WITH batch AS (SELECT {key} AS nexdb_key FROM {src} WHERE {filter} ORDER BY "
                    "{key} LIMIT {n}), "
                    "moved AS (DELETE FROM {src} WHERE {key} = ANY(ARRAY(SELECT nexdb_key FROM "
                    "batch)) AND ({where}) "
                    "RETURNING {returning}), "
                    "archived AS (INSERT INTO {dst} ({columns}) OVERRIDING SYSTEM VALUE SELECT "
                    "{columns} FROM moved "
                    "RETURNING 1) "
                    "SELECT (SELECT count(*) FROM batch), (SELECT max(nexdb_key) FROM batch), "
                    "(SELECT count(*) FROM moved), (SELECT count(*) FROM archived)",
                    fmt::arg("key", s.quoted_key), fmt::arg("src", s.table.quoted),
                    fmt::arg("filter", f.sql), fmt::arg("n", limit),
                    fmt::arg("where", job_.settings.where), fmt::arg("returning", s.column_list()),
                    fmt::arg("dst", job_.destination.quoted), fmt::arg("columns", s.column_list())),
        std::move(f.params)};
  }

  Moved move_postgres(Transaction& tx, const Checkpoint& checkpoint, std::size_t limit) {
    plan_each_batch(tx.connection());
    const Rows result = tx.execute(postgres_statement(checkpoint.last_key, limit));
    const auto selected = result[0].get<std::int64_t>(0);
    const auto moved = result[0].get<std::int64_t>(2);
    const auto archived = result[0].get<std::int64_t>(3);
    if (moved != archived) {
      throw ArchiveError(
          fmt::format("batch deleted {} rows but archived {}: rolled back", moved, archived));
    }
    // The next batch starts after every key this one took, moved or not.
    return {.selected = static_cast<std::uint64_t>(selected),
            .moved = static_cast<std::uint64_t>(moved),
            .last = selected > 0 ? std::optional(result[0][1]) : std::nullopt};
  }

  /// INSERT ... SELECT and DELETE of the same key range (SQLite has no DELETE in a CTE); the
  /// write transaction (BEGIN IMMEDIATE) keeps the range still between the two.
  std::pair<Statement, Statement> sqlite_statements(const std::optional<Value>& after,
                                                    const Value& last) const {
    Filter f = batch_filter(job_, Dialect::sqlite, after);
    f.params.emplace_back(last);
    const std::string range = fmt::format("{} AND {} <= ?", f.sql, job_.source.quoted_key);
    const auto& s = job_.source;
    return {Statement{fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}",
                                  job_.destination.quoted, s.column_list(), s.column_list(),
                                  s.table.quoted, range),
                      f.params},
            Statement{fmt::format("DELETE FROM {} WHERE {}", s.table.quoted, range), f.params}};
  }

  Moved move_sqlite(Transaction& tx, const Checkpoint& checkpoint, std::size_t limit) {
    Filter f = batch_filter(job_, Dialect::sqlite, checkpoint.last_key);
    const auto& key = job_.source.quoted_key;
    const Rows batch = tx.execute(Statement{
        fmt::format(
            "SELECT count(*), max(k) FROM (SELECT {} AS k FROM {} WHERE {} ORDER BY {} LIMIT {})",
            key, job_.source.table.quoted, f.sql, key, limit),
        f.params});
    const auto selected = batch[0].get<std::int64_t>(0);
    if (selected == 0) return {};
    const Value last = batch[0][1];
    const auto [insert, erase] = sqlite_statements(checkpoint.last_key, last);
    const auto archived = tx.execute(insert).affected_rows();
    const auto deleted = tx.execute(erase).affected_rows();
    if (archived != selected || deleted != selected) {
      throw ArchiveError(fmt::format("batch selected {} rows, archived {}, deleted {}: rolled back",
                                     selected, archived, deleted));
    }
    return {.selected = static_cast<std::uint64_t>(selected),
            .moved = static_cast<std::uint64_t>(selected),
            .last = last};
  }

  Database database_;
  Lease lease_;
  Job& job_;
};

}  // namespace

std::unique_ptr<Mover> same_database_mover(Database database, Job& job) {
  return std::make_unique<SameDatabaseMover>(std::move(database), job);
}

}  // namespace nexdb::archive_detail
