// IndexManager: create, drop and inspect indexes on every target (each shard's or cluster's
// primary) in one call, idempotently; find unused, duplicate and invalid indexes the way PgHero
// does. PostgreSQL and SQLite. See docs/optimizer.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/database.hpp"

namespace nexdb {

struct Config;
struct ClusterConfig;
struct ShardConfig;

enum class IndexType { btree, hash, gin, gist, brin };
std::string_view to_string(IndexType type) noexcept;
/// "btree", "hash", ...; nullopt for an unknown name.
std::optional<IndexType> index_type_from_string(std::string_view name) noexcept;

/// An index to create. Columns are names, optionally followed by ASC or DESC and NULLS FIRST or
/// NULLS LAST ("created_at DESC"); names are validated and quoted. `table` may be qualified
/// ("sales.orders"). `where` is a SQL predicate for a partial index: it is operator-supplied
/// text (DDL takes no bound parameters), checked to be one expression.
struct IndexDefinition {
  std::string table{};
  std::vector<std::string> columns{};
  IndexType type = IndexType::btree;
  bool unique = false;
  std::string where{};
  /// PostgreSQL: covering columns (INCLUDE); SQLite has none.
  std::vector<std::string> include{};
  /// PostgreSQL: CREATE/DROP INDEX CONCURRENTLY (no write lock; not in a transaction). SQLite
  /// builds in one transaction either way.
  bool concurrently = false;
  /// Empty: <table>_<columns>_idx, as PostgreSQL names indexes (shortened with a hash when
  /// longer than 63 bytes).
  std::string name{};

  /// The name the index gets (name, or the derived one).
  std::string index_name() const;
  /// The CREATE INDEX statement for `dialect`. Throws UsageError for a bad definition (no
  /// columns, a bad name, INCLUDE or a non-btree type on SQLite, a `where` that is not one
  /// expression).
  std::string create_sql(Dialect dialect, bool if_not_exists = true) const;
};

/// One index as the catalog describes it.
struct IndexInfo {
  std::string target{};  // which target (shard/cluster) it is on
  std::string schema{};  // PostgreSQL schema; "main" on SQLite
  std::string table{};
  std::string name{};
  std::vector<std::string> columns{};  // "user_id", "created_at DESC"; expressions as written
  std::string type = "btree";
  bool unique = false;
  bool primary = false;
  bool valid = true;  // false: a failed CREATE INDEX CONCURRENTLY (PostgreSQL)
  bool partial = false;
  bool backs_constraint = false;  // PRIMARY KEY / UNIQUE / EXCLUDE constraint (or SQLite autoindex)
  std::optional<std::int64_t> size_bytes{};  // nullopt where the backend cannot tell (SQLite)
  std::optional<std::int64_t> scans{};       // index scans since statistics were reset (PostgreSQL)
  std::string definition{};                  // CREATE INDEX ... as the database has it
};

/// An index made redundant by another whose leading columns cover it (PgHero's rule).
struct DuplicateIndex {
  IndexInfo unneeded{};
  IndexInfo covering{};
  std::string drop_sql{};  // DROP INDEX ... for the unneeded one
};

/// What create_index()/drop_index() did on one target.
enum class IndexAction { created, rebuilt, already_present, dropped, absent };
std::string_view to_string(IndexAction action) noexcept;

struct IndexChange {
  std::string target{};
  std::string index{};
  IndexAction action = IndexAction::created;
  std::string sql{};  // the statement run; empty when nothing had to run
};

struct DropIndexOptions {
  bool concurrently = false;  // PostgreSQL: DROP INDEX CONCURRENTLY
};

/// A named database to manage indexes on. `replicas` (optional) are read replicas of it whose
/// index usage unused() adds: an index scanned only by queries on replicas is not unused.
struct IndexTarget {
  std::string name{};
  Database database;
  std::vector<Database> replicas{};
};

/// Manages indexes on one database or several (every shard's primary). Each call applies to
/// every target in order; a call that fails on one target throws an error naming it and the
/// targets already done — calls are idempotent, so running it again finishes the job.
/// Thread-safe for concurrent calls (each uses its own pooled connections).
class IndexManager {
 public:
  explicit IndexManager(Database database);
  explicit IndexManager(std::vector<IndexTarget> targets);
  /// Every cluster of the configuration — shards are clusters of the shard map — each by its
  /// primary, with its replicas for unused(); a shard map value that is a URI is a target too.
  static IndexManager from_config(const Config& config);
  /// Every cluster of a shard map once, in shard order, by its primary (with its replicas for
  /// unused()): the same map and clusters a ShardManager is built from. Cluster names are looked
  /// up in `clusters` (empty: Config::load_default()'s); a map value that is a connection URI
  /// is a target of its own ("shard-N"). ConfigError for an empty map or an unknown cluster.
  static IndexManager for_shards(const ShardConfig& shards,
                                 std::vector<ClusterConfig> clusters = {});

  /// Creates the index where it is missing; where an index of that name exists with the same
  /// table, columns, type and uniqueness nothing runs; where it exists invalid (a failed
  /// concurrent build) it is dropped and built again. An index of that name with another
  /// definition is a UsageError.
  std::vector<IndexChange> create_index(const IndexDefinition& definition);
  /// Drops the index where it exists (`name` may be schema-qualified).
  std::vector<IndexChange> drop_index(std::string_view name, DropIndexOptions options = {});

  /// Indexes of tables in the schemas on the search path (every table on SQLite), optionally
  /// of one table.
  std::vector<IndexInfo> list(std::string_view table = {});
  /// PostgreSQL: indexes never scanned since statistics were reset (on the target and its
  /// replicas), excluding unique and primary-key indexes and those backing constraints.
  /// SQLite keeps no usage statistics: a UsageError.
  std::vector<IndexInfo> unused();
  /// Indexes whose columns are the leading columns of another index of the same table, type
  /// and predicate (the wider one serves their queries), except unique indexes that enforce
  /// a constraint the wider one does not.
  std::vector<DuplicateIndex> duplicates();
  /// PostgreSQL: indexes left invalid by a failed CREATE INDEX CONCURRENTLY (they slow writes
  /// and serve no reads). SQLite builds indexes atomically: always empty.
  std::vector<IndexInfo> invalid();

  const std::vector<IndexTarget>& targets() const noexcept { return targets_; }

 private:
  std::vector<IndexTarget> targets_;
};

}  // namespace nexdb
