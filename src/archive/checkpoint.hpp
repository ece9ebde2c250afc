// The checkpoint of an archive job: how far it got, and the batch that was copied but not yet
// deleted from the source. Kept where the copy goes, so that copying a batch and recording it
// are one transaction (a table nexdb_archive_checkpoint) or one durable rename (a sidecar file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nexdb/connection.hpp"
#include "nexdb/value.hpp"

namespace nexdb::archive_detail {

inline constexpr std::string_view kCheckpointTable = "nexdb_archive_checkpoint";

enum class JobState { running, copied, finished };

struct Checkpoint {
  std::string job{};
  std::string source{};       // source table and where it is, for humans
  std::string destination{};  // likewise
  std::string condition{};    // the where clause: a different one starts the job afresh
  JobState state = JobState::running;
  std::optional<Value> last_key{};      // every matching row at or below it has been handled
  std::optional<Value> previous_key{};  // last_key before the pending batch
  // The pending batch (state copied): its first and last key (for humans), its size and its
  // exact keys. Recovery looks the batch up by these keys, never by a key range: another
  // database (SQLite after PostgreSQL, another collation) may order the same keys differently.
  std::optional<Value> pending_first{};
  std::optional<Value> pending_last{};
  std::uint64_t pending_rows = 0;
  std::vector<Value> pending_keys{};
  std::uint64_t rows_moved = 0;
  std::uint64_t batches = 0;
  // File destinations only: the file's length before and after the pending batch.
  std::uint64_t size_before = 0;
  std::uint64_t committed_size = 0;
};

/// Back to state running after the pending batch: `moved` of its rows counted as moved.
void settle(Checkpoint& checkpoint, std::uint64_t moved);

/// A checkpoint table in a database (created on first use; a table from an earlier version gains
/// the pending_keys column). Writes take the connection's current transaction, so they commit
/// together with the batch.
class TableCheckpoints {
 public:
  explicit TableCheckpoints(Connection& connection) : connection_(connection) {}
  void create_if_missing();
  std::optional<Checkpoint> load(const std::string& job);
  void save(const Checkpoint& checkpoint);

 private:
  Connection& connection_;
};

/// The sidecar file "<archive file>.checkpoint" (JSON), replaced atomically and durably.
std::optional<Checkpoint> load_file_checkpoint(const std::filesystem::path& archive_file);
void save_file_checkpoint(const std::filesystem::path& archive_file, const Checkpoint& checkpoint);
std::filesystem::path checkpoint_path(const std::filesystem::path& archive_file);

std::string_view to_string(JobState state) noexcept;

}  // namespace nexdb::archive_detail
