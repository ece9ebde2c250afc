// A file: copy, verify, delete, with the checkpoint in a sidecar file (and the run holding the
// file's lock, "<file>.lock"). Per batch:
//   1. source: BEGIN; SELECT the batch FOR UPDATE
//   2. append it to the file at the committed end as one gzip member, fsync, read it back
//   3. checkpoint: state 'copied', the file's length before and after, the batch's keys
//   4. source: DELETE exactly those keys; COMMIT
//   5. checkpoint: state 'running', counters advanced
// Anything in the file beyond the committed length is a batch no checkpoint recorded (a crash
// between 2 and 3): it is cut off, and its rows are still in the source. A crash between 3 and
// 5 is settled on the next run by the keys: all still in the source, the member is cut off;
// otherwise it stays and the rest of its keys are deleted.
#include <fmt/format.h>

#include "archive/fault.hpp"
#include "archive/file_sink.hpp"
#include "archive/mover.hpp"
#include "nexdb/transaction.hpp"

namespace nexdb::archive_detail {
namespace {

class FileMover final : public Mover {
 public:
  FileMover(Database source, const std::filesystem::path& file, Job& job)
      : source_db_(std::move(source)), source_(source_db_.connection()), sink_(file), job_(job) {}

  std::optional<Checkpoint> load() override {
    auto checkpoint = load_file_checkpoint(sink_.path());
    if (checkpoint && checkpoint->job != job_.settings.job &&
        checkpoint->state != JobState::finished) {
      throw ArchiveError(
          fmt::format("{} is being written by archive job '{}', which has not finished; finish it "
                      "or archive into another file",
                      sink_.path().string(), checkpoint->job));
    }
    if (checkpoint && checkpoint->job != job_.settings.job) checkpoint.reset();
    return checkpoint;
  }

  void recover(Checkpoint& c) override {
    const std::vector<Value> still =
        present_keys(*source_, job_.source.table, job_.source.quoted_key, c.pending_keys);
    std::uint64_t moved = c.pending_rows;
    if (still.size() == c.pending_keys.size()) {
      sink_.truncate(c.size_before);  // nothing was deleted: undo the copy
      c.committed_size = c.size_before;
      c.last_key = c.previous_key;
      moved = 0;
    } else if (!still.empty()) {
      // Part of the batch left the source some other way since; the rest is in the file.
      Transaction tx(*source_);
      delete_keys(*source_, job_.source.table, job_.source.quoted_key, still);
      tx.commit();
    }
    settle(c, moved);
    save(c);
    job_.report.recovered_rows += moved;
    job_.report.uncopied_rows += moved == 0 ? still.size() : 0;
  }

  void begin(Checkpoint& checkpoint, bool fresh) override {
    // A fresh job starts at the file's current end; a resumed one cuts off what no checkpoint
    // recorded.
    if (fresh) checkpoint.committed_size = sink_.size();
    if (sink_.size() > checkpoint.committed_size) sink_.truncate(checkpoint.committed_size);
    save(checkpoint);
  }

  void save(const Checkpoint& checkpoint) override {
    save_file_checkpoint(sink_.path(), checkpoint);
  }

  std::string destination() const override { return sink_.path().string(); }

  BatchResult move(Checkpoint& checkpoint, std::size_t limit) override {
    Transaction source_tx(*source_);
    plan_each_batch(*source_);
    const Rows rows =
        source_tx.execute(select_batch(job_, source_->dialect(), checkpoint.last_key, limit));
    if (rows.empty()) return {.rows = 0, .exhausted = true};
    const std::vector<Value> keys = keys_of(rows, job_.source.key);

    Checkpoint copied = copying(checkpoint, keys);
    copied.size_before = checkpoint.committed_size;
    copied.committed_size = sink_.append(rows, checkpoint.committed_size);
    fault_point("file-appended");
    save(copied);
    fault_point("file-recorded");

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
    return {select_batch(job_, source_->dialect(), checkpoint.last_key, limit).sql,
            fmt::format("-- append the rows to {}, fsync, read back", sink_.path().string()),
            fmt::format("DELETE FROM {} WHERE {} IN (the keys written)", job_.source.table.quoted,
                        job_.source.quoted_key)};
  }

 private:
  Database source_db_;
  Lease source_;
  FileSink sink_;
  Job& job_;
};

}  // namespace

std::unique_ptr<Mover> file_mover(Database source, const std::filesystem::path& file, Job& job) {
  return std::make_unique<FileMover>(std::move(source), file, job);
}

}  // namespace nexdb::archive_detail
