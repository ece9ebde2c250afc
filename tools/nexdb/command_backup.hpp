// `nexdb backup create|list|verify|restore|prune` and `nexdb archive` over the clusters of the
// configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "context.hpp"

namespace nexdb::cli {

struct BackupOptions {
  std::string action{};      // create, list, verify, restore, prune
  std::string repository{};  // --repository; empty: [backup] repository
  std::string cluster{};     // create: only this cluster (default every cluster)
  std::string kind{};        // create --kind logical|physical|sqlite
  std::string label{};
  std::string id{};    // verify / restore ID ("latest" by default for verify)
  std::string to{};    // restore --to URI or data directory
  std::string part{};  // restore --part
  bool force = false;
  bool no_owner = false;
  std::optional<std::int64_t> keep_last{};
  std::optional<std::int64_t> keep_days{};
  bool dry_run = false;
};

int run_backup(const GlobalOptions& global, const BackupOptions& options);

struct ArchiveOptions {
  std::string table{};
  std::string where{};
  std::string to{};  // table name, database URI, or file (.csv/.jsonl[.gz]); empty: <table>_archive
  std::string to_table{};  // the table in another database
  std::string key{};
  std::size_t batch_size = 1000;
  std::int64_t sleep_ms = 0;
  std::uint64_t max_lag_bytes = 0;
  double max_lag_seconds = 0;
  double max_lag_wait_seconds = 300;  // give up after one pause this long (0 = for ever)
  std::uint64_t max_rows = 0;
  std::string job{};
  std::string cluster{};
  bool dry_run = false;
  bool no_count = false;
};

int run_archive(const GlobalOptions& global, const ArchiveOptions& options);

}  // namespace nexdb::cli
