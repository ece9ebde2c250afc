// The three ways a batch moves: within one database (one atomic statement), to another
// database, or to a file (copy, verify, delete, with a checkpoint between each step).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/checkpoint.hpp"
#include "archive/table.hpp"
#include "nexdb/archive.hpp"
#include "nexdb/pool.hpp"

namespace nexdb::archive_detail {

/// What every mover needs to know about the run.
struct Job {
  const ArchiveSettings& settings;
  TableInfo source;
  TableName destination{};  // the archive table (database destinations)
  ArchiveReport& report;
};

struct BatchResult {
  std::uint64_t rows = 0;
  bool exhausted = false;  // fewer than asked: nothing matching is left
};

class Mover {
 public:
  virtual ~Mover() = default;
  /// The job's checkpoint; nullopt for a job that has none yet.
  virtual std::optional<Checkpoint> load() = 0;
  /// Finishes a batch an interrupted run left copied but not deleted (state copied).
  virtual void recover(Checkpoint& checkpoint) = 0;
  /// Creates the archive table as needed and records `checkpoint` (`fresh`: a new start of
  /// the job, not a resumption).
  virtual void begin(Checkpoint& checkpoint, bool fresh) = 0;
  /// Moves up to `limit` rows after checkpoint.last_key and advances the checkpoint.
  virtual BatchResult move(Checkpoint& checkpoint, std::size_t limit) = 0;
  /// Records the checkpoint outside a batch (the job finished, or a fresh start).
  virtual void save(const Checkpoint& checkpoint) = 0;
  /// Where the rows go, for messages and the default job name.
  virtual std::string destination() const = 0;
  /// What one batch runs (dry run).
  virtual std::vector<std::string> statements(const Checkpoint& checkpoint,
                                              std::size_t limit) const = 0;
};

std::unique_ptr<Mover> same_database_mover(Database database, Job& job);
std::unique_ptr<Mover> database_mover(Database source, Database destination, Job& job);
std::unique_ptr<Mover> file_mover(Database source, const std::filesystem::path& file, Job& job);

// --- helpers shared by the movers ---------------------------------------------------------

/// "(where) [AND key > $k]" with its parameters: where_params, then the last key.
struct Filter {
  std::string sql{};
  std::vector<Value> params{};
};
Filter batch_filter(const Job& job, Dialect dialect, const std::optional<Value>& after);

/// SELECT every column of the next batch, ordered by the key (FOR UPDATE on PostgreSQL).
Statement select_batch(const Job& job, Dialect dialect, const std::optional<Value>& after,
                       std::size_t limit);

/// Inside a batch's transaction on PostgreSQL: plan its statements for their actual values. A
/// cached generic plan knows neither the last key nor the condition's values, and may walk the
/// wrong index for every batch.
void plan_each_batch(Connection& connection);

/// The keys of `rows` (column `key`), in order.
std::vector<Value> keys_of(const Rows& rows, const std::string& key);
/// Which of `keys` the table holds now.
std::vector<Value> present_keys(Connection& connection, const TableName& table,
                                const std::string& quoted_key, const std::vector<Value>& keys);
/// How many rows of the table have one of these keys (each key compared by equality).
std::uint64_t count_keys(Connection& connection, const TableName& table,
                         const std::string& quoted_key, const std::vector<Value>& keys);
/// Deletes the rows with these keys; returns how many went.
std::uint64_t delete_keys(Connection& connection, const TableName& table,
                          const std::string& quoted_key, const std::vector<Value>& keys);
/// The checkpoint of a batch being copied (state copied): the position moves to its last key,
/// the old one is kept to go back to, the batch's exact keys (and first, last, size) are
/// recorded.
Checkpoint copying(const Checkpoint& checkpoint, const std::vector<Value>& keys);
/// Deletes exactly the batch's keys from the source; ArchiveError when any is missing (the
/// caller's transaction then rolls back and the rows stay).
void delete_batch(Connection& source, const Job& job, const std::vector<Value>& keys);

/// Inserts `rows` into `table` (their column names), in statements of at most 6,000 values.
void insert_rows(Connection& connection, const TableName& table, const Rows& rows);

/// A key as comparable text (for sets of keys).
std::string key_text(const Value& key);

}  // namespace nexdb::archive_detail
