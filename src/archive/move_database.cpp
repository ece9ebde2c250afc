// Another database: copy, verify, delete. Per batch:
//   1. source: BEGIN; SELECT the batch FOR UPDATE (SQLite: the write lock of BEGIN IMMEDIATE)
//   2. destination: BEGIN; INSERT the rows; count the batch's keys in the archive table (each
//      exactly once: none missing, none archived before); checkpoint state 'copied' with the
//      batch's exact keys; COMMIT                   <- the copy and its record are one commit
//   3. source: DELETE exactly those keys; COMMIT
//   4. destination: checkpoint state 'running', counters advanced
// A crash between 2 and 4 leaves state 'copied'; the next run looks up the recorded keys (by
// equality, never by a key range: SQLite after PostgreSQL, or another collation, orders the
// same keys differently): keys the source still has are taken out of the archive again (and
// archived afresh later), the others count as moved. So no row is lost and none is archived
// twice.
#include <fmt/format.h>

#include <set>

#include "archive/fault.hpp"
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
      verify_copied(keys);
      TableCheckpoints(*destination_).save(copied);
      tx.commit();
    }
    fault_point("destination-committed");
    delete_batch(*source_, job_, keys);
    source_tx.commit();
    fault_point("source-committed");

    checkpoint = copied;
    settle(checkpoint, keys.size());
    save(checkpoint);
    return {.rows = keys.size(), .exhausted = keys.size() < limit};
  }

  std::vector<std::string> statements(const Checkpoint& checkpoint,
                                      std::size_t limit) const override {
    return {
        select_batch(job_, source_->dialect(), checkpoint.last_key, limit).sql,
        fmt::format("INSERT INTO {} ({}) VALUES ... -- on {}", job_.destination.quoted,
                    job_.source.column_list(), destination_->description()),
        fmt::format("SELECT count(*) FROM {} WHERE {} IN (the keys copied) -- on {}",
                    job_.destination.quoted, job_.source.quoted_key, destination_->description()),
        fmt::format("DELETE FROM {} WHERE {} IN (the keys copied)", job_.source.table.quoted,
                    job_.source.quoted_key)};
  }

 private:
  /// Inside the copy's transaction: the archive table holds each key of the batch exactly
  /// once. Fewer: a row did not arrive; more: a key was archived before, and archiving it
  /// again would duplicate it (and a recovery could not tell the copies apart). Either way
  /// the copy rolls back and nothing is deleted.
  void verify_copied(const std::vector<Value>& keys) {
    const std::uint64_t found =
        count_keys(*destination_, job_.destination, job_.source.quoted_key, keys);
    if (found == keys.size()) return;
    throw ArchiveError(fmt::format(
        "{}: nothing copied, nothing deleted",
        found < keys.size()
            ? fmt::format("{} of the batch's {} rows are not in {} after copying",
                          keys.size() - found, keys.size(), job_.destination.text)
            : fmt::format("{} already holds {} row(s) with keys of this batch ({}): archiving "
                          "them again would duplicate them",
                          job_.destination.text, found - keys.size(), describe_duplicates(keys))));
  }

  /// The batch's keys that were already in the archive (the first few), for the message.
  std::string describe_duplicates(const std::vector<Value>& keys) {
    std::multiset<std::string> seen;
    for (const Value& k :
         present_keys(*destination_, job_.destination, job_.source.quoted_key, keys))
      seen.insert(key_text(k));
    std::vector<std::string> twice;
    for (const std::string& k : std::set<std::string>(seen.begin(), seen.end())) {
      if (seen.count(k) > 1 && twice.size() < 5) twice.push_back(job_.source.key + " = " + k);
    }
    return fmt::format("{}", fmt::join(twice, ", "));
  }

  /// An interrupted batch (state copied): the source still has some of its keys (its delete
  /// never committed) or none (the delete committed, the checkpoint's update did not).
  void recover(Checkpoint& c) override {
    if (c.pending_keys.empty() && c.pending_rows > 0) {
      throw ArchiveError(fmt::format(
          "the checkpoint of job '{}' records an interrupted batch of {} rows without its keys "
          "(written by an earlier nexdb): settle it by hand (rows of keys after {} may be in "
          "both {} and {}), then delete the job's row from {}",
          c.job, c.pending_rows, c.previous_key ? key_text(*c.previous_key) : "the start",
          job_.source.table.text, job_.destination.text, kCheckpointTable));
    }
    const std::string& key = job_.source.quoted_key;
    const std::vector<Value> still = present_keys(*source_, job_.source.table, key, c.pending_keys);
    std::set<std::string> in_source;
    for (const Value& k : still) in_source.insert(key_text(k));
    std::vector<Value> gone;  // deleted from the source: archived, if the archive has them
    for (const Value& k : c.pending_keys) {
      if (!in_source.contains(key_text(k))) gone.push_back(k);
    }
    Transaction tx(*destination_);
    const std::uint64_t moved = count_keys(*destination_, job_.destination, key, gone);
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
