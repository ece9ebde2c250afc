// `nexdb archive`: old rows out of a table, batch by batch, on every cluster (shard) of the
// configuration.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "command_backup.hpp"
#include "commands.hpp"
#include "nexdb/archive.hpp"
#include "nexdb/error.hpp"

namespace nexdb::cli {
namespace {

using Json = nlohmann::ordered_json;

bool is_database_uri(std::string_view to) {
  return to.starts_with("postgresql://") || to.starts_with("postgres://") ||
         to.starts_with("sqlite:") || to.find('=') != std::string_view::npos;
}

bool is_file(std::string_view to) {
  for (std::string_view ext : {".csv", ".jsonl", ".ndjson"}) {
    if (to.ends_with(ext) || to.ends_with(std::string(ext) + ".gz")) return true;
  }
  return to.find('/') != std::string_view::npos;
}

/// --to: a database URI (table from --to-table), a file, or a table in the same database.
ArchiveDestination destination_of(const ArchiveOptions& o) {
  if (is_database_uri(o.to)) return {.table = o.to_table, .database = Database::open(o.to)};
  if (!o.to_table.empty())
    throw UsageError("--to-table names the table in another database: give --to a URI too");
  if (is_file(o.to)) return {.file = o.to};
  return {.table = o.to};
}

ArchiveSettings settings_of(const ArchiveOptions& o) {
  return {.table = o.table,
          .where = o.where,
          .key = o.key,
          .to = destination_of(o),
          .batch_size = o.batch_size,
          .pause = std::chrono::milliseconds(o.sleep_ms),
          .lag = {.max_bytes = o.max_lag_bytes,
                  .max_delay = std::chrono::milliseconds(
                      static_cast<std::int64_t>(o.max_lag_seconds * 1000)),
                  .max_wait = std::chrono::milliseconds(
                      static_cast<std::int64_t>(o.max_lag_wait_seconds * 1000))},
          .max_rows = o.max_rows,
          .count_first = !o.no_count,
          .dry_run = o.dry_run,
          .job = o.job};
}

/// A progress bar per shard, and a line each time archiving pauses for a replica.
class ArchiveBar {
 public:
  explicit ArchiveBar(bool enabled) : enabled_(enabled) {}
  std::function<void(const ArchiveProgress&)> callback() {
    if (!enabled_) return {};
    return [this](const ArchiveProgress& p) { update(p); };
  }
  void finish() {
    if (bar_) bar_->finish();
    bar_.reset();
    done_ = 0;
  }

 private:
  void update(const ArchiveProgress& p) {
    if (p.rows < done_ || p.total != total_) finish();  // the next shard
    total_ = p.total;
    if (p.paused && !paused_) {
      term_.line(p.replica_error.empty()
                     ? fmt::format("\n    {} {} is {} bytes / {} ms behind; waiting",
                                   term_.cyan("paused:"), p.replica, p.lag_bytes,
                                   p.lag_delay.count())
                     : fmt::format("\n    {} {} cannot be reached ({}); waiting",
                                   term_.cyan("paused:"), p.replica, p.replica_error));
    }
    if (!p.paused && paused_) term_.line("    " + term_.green("resumed"));
    paused_ = p.paused;
    if (!bar_ && p.total > 0) bar_.emplace(term_, "archiving", p.total);
    if (bar_ && p.rows > done_) {
      bar_->advance(p.rows - done_);
      done_ = p.rows;
    }
  }

  Terminal term_;
  bool enabled_;
  bool paused_ = false;
  std::optional<ProgressBar> bar_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
};

Json report_json(const std::string& cluster, const ArchiveShardOutcome& o) {
  if (!o.report) return {{"cluster", cluster}, {"result", "failed"}, {"error", o.error}};
  const ArchiveReport& r = *o.report;
  return {{"cluster", cluster},
          {"result", "done"},
          {"job", r.job},
          {"dry_run", r.dry_run},
          {"matching", r.matching},
          {"statements", r.statements},
          {"rows", r.rows},
          {"batches", r.batches},
          {"resumed", r.resumed},
          {"recovered_rows", r.recovered_rows},
          {"uncopied_rows", r.uncopied_rows},
          {"lag_pauses", r.lag_pauses},
          {"paused_ms", r.paused.count()},
          {"duration_ms", r.duration.count()},
          {"rows_per_second", r.rows_per_second()}};
}

void print_text(const Terminal& term, const std::string& cluster, const ArchiveShardOutcome& o) {
  if (!o.report) {
    fmt::print(stderr, "{} {}: {}\n", term.red("failed"), cluster, o.error);
    return;
  }
  const ArchiveReport& r = *o.report;
  if (r.dry_run) {
    fmt::print("{} {}: {} rows match; each batch runs:\n", term.cyan("dry run"), cluster,
               r.matching);
    for (const auto& s : r.statements) fmt::print("    {}\n", s);
    return;
  }
  fmt::print("{} {}: {} rows in {} batches, {:.0f} rows/s{}{}\n", term.green("ok"), cluster, r.rows,
             r.batches, r.rows_per_second(), r.resumed ? " (resumed an interrupted run)" : "",
             r.lag_pauses > 0 ? fmt::format(", paused {} time(s) for replica lag ({} ms)",
                                            r.lag_pauses, r.paused.count())
                              : "");
  if (r.recovered_rows + r.uncopied_rows > 0) {
    fmt::print(
        "    interrupted batch settled: {} rows counted as moved, {} taken back out of the "
        "archive\n",
        r.recovered_rows, r.uncopied_rows);
  }
}

}  // namespace

void add_archive_command(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto o = std::make_shared<ArchiveOptions>();
  auto* archive =
      app.add_subcommand("archive", "Move old rows out of a table in batches, on every cluster");
  archive->add_option("--table", o->table, "Source table")->required();
  archive
      ->add_option("--where", o->where,
                   "Which rows, as SQL (e.g. \"created_at < now() - interval '90 days'\")")
      ->required();
  archive->add_option("--to", o->to,
                      "A table in the same database (default <table>_archive), a database URI, "
                      "or a file (.csv / .jsonl, optionally .gz)");
  archive->add_option("--to-table", o->to_table,
                      "The table in the database --to names (default: the source's name)");
  archive->add_option("--key", o->key,
                      "Unique column the batches follow (default: the primary key)");
  archive->add_option("--batch-size", o->batch_size, "Rows per batch")
      ->check(CLI::Range(1, 1000000));
  archive->add_option("--sleep", o->sleep_ms, "Milliseconds to sleep between batches")
      ->check(CLI::NonNegativeNumber);
  archive->add_option("--max-lag-bytes", o->max_lag_bytes,
                      "Pause while a replica is further behind (bytes of WAL)");
  archive
      ->add_option("--max-lag-seconds", o->max_lag_seconds,
                   "Pause while a replica is further behind (seconds)")
      ->check(CLI::NonNegativeNumber);
  archive
      ->add_option("--max-lag-wait", o->max_lag_wait_seconds,
                   "Give up after waiting this many seconds in one pause for a replica that is "
                   "behind or unreachable (0 = wait for ever); a later run resumes")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  archive->add_option("--max-rows", o->max_rows, "Stop after this many rows (resume later)");
  archive->add_option("--job", o->job, "Checkpoint name (default: from table and destination)");
  archive->add_option("--cluster", o->cluster, "Only this cluster");
  archive->add_flag("--dry-run", o->dry_run,
                    "Count the matching rows, print the statements, change nothing");
  archive->add_flag("--no-count", o->no_count,
                    "Do not count the matching rows first (no progress total)");
  registry.on(archive, [&global, o] { return run_archive(global, *o); });
}

int run_archive(const GlobalOptions& global, const ArchiveOptions& options) {
  const Config config = load_config(global);
  std::vector<ArchiveShard> shards;
  for (const ClusterConfig& cluster : config.clusters) {
    if (!options.cluster.empty() && cluster.name != options.cluster) continue;
    shards.push_back({.name = cluster.name,
                      .source = Database::open(config, cluster.name),
                      .replicas = cluster.replicas});
  }
  if (shards.empty()) config.cluster(options.cluster);  // ConfigError listing the clusters
  ArchiveSettings settings = settings_of(options);
  Archiver(shards.front().source, settings);  // usage errors (exit 2) before any shard runs

  const Terminal term;
  const bool text = global.format == Format::text;
  ArchiveBar bar(text && term.interactive() && !options.dry_run);
  settings.progress = bar.callback();
  Json json = Json::array();
  int exit_code = 0;
  for (const ArchiveShardOutcome& outcome : archive_shards(shards, settings)) {
    if (!outcome.report) exit_code = 1;
    if (text) print_text(term, outcome.name, outcome);
    json.push_back(report_json(outcome.name, outcome));
  }
  bar.finish();
  if (!text) fmt::print("{}\n", json.dump(2));
  return exit_code;
}

}  // namespace nexdb::cli
