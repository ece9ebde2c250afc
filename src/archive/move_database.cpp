// Another database: copy, verify, delete. Per batch:
//   1. source: BEGIN; SELECT the batch FOR UPDATE (SQLite: the write lock of BEGIN IMMEDIATE)
//   2. destination: BEGIN; INSERT the rows; checkpoint state 'copied' with the batch's key
//      range; COMMIT                                    <- the copy and its record are one commit
//   3. destination: read the keys back and check every row arrived
//   4. source: DELETE exactly those keys; COMMIT
//   5. destination: checkpoint state 'running', counters advanced
// A crash between 2 and 5 leaves state 'copied'; the next run looks at which of the batch's
// keys the source still has: those rows are taken out of the archive again (and archived
// afresh later), the others count as moved. So no row is lost and none is archived twice.
#include <fmt/format.h>

#include <set>

#include "archive/mover.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::archive_detail {
namespace {

class DatabaseMover final : public Mover {
 public:
  DatabaseMover(Database source, Database destination, Job& job)
      : source_db_(std::move(source)),
        destination_db_(std::move(destination)),
        source_(source_db_.connection()),
        destination_(destination_db_.connection()),
        job_(job) {}

  std::optional<Checkpoint> load() override {
    TableCheckpoints checkpoints(*destination_);
    checkpoints.create_if_missing();
    return checkpoints.load(job_.settings.job);
  }

  void begin(Checkpoint& checkpoint, bool) override {
    prepare_destination(*destination_, job_.source, job_.destination, false);
    save(checkpoint);
  }

  void save(const Checkpoint& checkpoint) override {
    TableCheckpoints(*destination_).save(checkpoint);
  }

  std::string destination() const override {
    return fmt::format("{} on {}", job_.destination.text, destination_->description());
  }

  BatchResult move(Checkpoint& checkpoint, std::size_t limit) override {
    Transaction source_tx(*source_);
    plan_each_batch(*source_);
    const Rows rows =
        source_tx.execute(select_batch(job_, source_->dialect(), checkpoint.last_key, limit));
    if (rows.empty()) return {.rows = 0, .exhausted = true};
    const std::vector<Value> keys = keys_of(rows, job_.source.key);

    Checkpoint copied = copying(checkpoint, keys);
    {
      Transaction tx(*destination_);
      insert_rows(*destination_, job_.destination, rows);
      TableCheckpoints(*destination_).save(copied);
      tx.commit();
    }
    verify_copied(keys);
    delete_batch(*source_, job_, keys);
    source_tx.commit();

    checkpoint = copied;
    settle(checkpoint, keys.size());
    save(checkpoint);
    return {.rows = keys.size(), .exhausted = keys.size() < limit};
  }

  std::vector<std::string> statements(const Checkpoint& checkpoint,
                                      std::size_t limit) const override {
    return {select_batch(job_, source_->dialect(), checkpoint.last_key, limit).sql,
            fmt::format("INSERT INTO {} ({}) VALUES ... -- on {}", job_.destination.quoted,
                        job_.source.column_list(), destination_->description()),
            fmt::format("DELETE FROM {} WHERE {} IN (the keys copied)", job_.source.table.quoted,
                        job_.source.quoted_key)};
  }

 private:
  /// Every key of the batch is in the archive table now.
  void verify_copied(const std::vector<Value>& keys) {
    const std::string& key = job_.source.quoted_key;
    const Dialect d = destination_->dialect();
    const Rows found = destination_->execute(
        Statement{fmt::format("SELECT {0} FROM {1} WHERE {0} >= {2} AND {0} <= {3}", key,
                              job_.destination.quoted, placeholder(d, 1), placeholder(d, 2)),
                  {keys.front(), keys.back()}});
    std::set<std::string> archived;
    for (Row row : found) archived.insert(key_text(row[0]));
    for (const Value& k : keys) {
      if (!archived.contains(key_text(k))) {
        throw ArchiveError(fmt::format("row {} = {} is not in {} after copying: nothing deleted",
                                       job_.source.key, key_text(k), job_.destination.text));
      }
    }
  }

  /// An interrupted batch: keys the source still has go back out of the archive.
  void recover(Checkpoint& c) override {
    const std::string& key = job_.source.quoted_key;
    const Dialect d = destination_->dialect();
    const Rows copied = destination_->execute(
        Statement{fmt::format("SELECT {0} FROM {1} WHERE {0} >= {2} AND {0} <= {3}", key,
                              job_.destination.quoted, placeholder(d, 1), placeholder(d, 2)),
                  {c.pending_first.value_or(Value()), c.pending_last.value_or(Value())}});
    const std::vector<Value> still =
        present_keys(*source_, job_.source.table, key, keys_of(copied, job_.source.key));
    const std::uint64_t moved = c.pending_rows > still.size() ? c.pending_rows - still.size() : 0;
    Transaction tx(*destination_);
    delete_keys(*destination_, job_.destination, key, still);
    if (!still.empty()) c.last_key = c.previous_key;  // archive them afresh
    settle(c, moved);
    TableCheckpoints(*destination_).save(c);
    tx.commit();
    job_.report.recovered_rows += moved;
    job_.report.uncopied_rows += still.size();
  }

  Database source_db_;
  Database destination_db_;
  Lease source_;
  Lease destination_;
  Job& job_;
};

}  // namespace

std::unique_ptr<Mover> database_mover(Database source, Database destination, Job& job) {
  return std::make_unique<DatabaseMover>(std::move(source), std::move(destination), job);
}

}  // namespace nexdb::archive_detail
