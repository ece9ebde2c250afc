// Archiver::run: picks the mover for the destination, takes the job's lock, resumes or starts
// the checkpoint, and moves batch after batch, pausing while a replica is too far behind.
#include <fmt/format.h>

#include <thread>

#include "archive/file_sink.hpp"
#include "archive/job_lock.hpp"
#include "archive/lag.hpp"
#include "archive/mover.hpp"
#include "nexdb/archive.hpp"

namespace nexdb {
namespace {

using namespace archive_detail;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

bool same_database(const Database& a, const Database& b) {
  return a.dialect() == b.dialect() && a.description() == b.description();
}

/// The archive table: as given, else "<table>_archive" beside it, else the source's name there.
TableName destination_table(const ArchiveSettings& s, bool same) {
  if (!s.to.table.empty()) return parse_table_name(s.to.table);
  return parse_table_name(same ? s.table + "_archive" : s.table);
}

/// The condition as recorded: a different one (or other values) starts the job afresh.
std::string condition_of(const ArchiveSettings& s) {
  std::string out = s.where;
  for (const Value& v : s.where_params) out += " | " + exact_text(v);
  return out;
}

std::uint64_t count_matching(Database& source, const Job& job, const std::optional<Value>& after) {
  Lease lease = source.connection();
  const Filter f = batch_filter(job, lease->dialect(), after);
  return lease
      ->execute(
          Statement{fmt::format("SELECT count(*) FROM {} WHERE {}", job.source.table.quoted, f.sql),
                    f.params})
      .scalar<std::uint64_t>();
}

/// Waits while a watched replica is beyond a bound; reports the pause.
void wait_for_replicas(LagProbe& probe, Connection& primary, const ArchiveSettings& s,
                       ArchiveReport& report, ArchiveProgress progress) {
  const auto start = Clock::now();
  bool paused = false;
  while (auto lag = probe.over_limit(primary)) {
    if (!paused) ++report.lag_pauses;
    paused = true;
    progress.paused = true;
    progress.replica = lag->replica;
    progress.replica_error = lag->error;
    progress.lag_bytes = lag->bytes;
    progress.lag_delay = lag->delay;
    if (s.progress) s.progress(progress);
    if (s.lag.max_wait.count() > 0 && since(start) > s.lag.max_wait) {
      report.paused += since(start);
      throw ArchiveError(fmt::format(
          "{} for {} ms (max_wait {} ms): archiving stopped after {} rows; the next run of "
          "job '{}' resumes where it stopped",
          lag->error.empty()
              ? fmt::format("replica {} stayed behind ({} bytes of WAL, {} ms)", lag->replica,
                            lag->bytes, lag->delay.count())
              : fmt::format("replica {} could not be reached ({})", lag->replica, lag->error),
          since(start).count(), s.lag.max_wait.count(), progress.rows, s.job));
    }
    std::this_thread::sleep_for(s.lag.check_interval);
  }
  if (!paused) return;
  report.paused += since(start);
  progress.paused = false;
  progress.replica.clear();
  progress.replica_error.clear();
  if (s.progress) s.progress(progress);
}

std::unique_ptr<Mover> mover_for(const Database& source, const ArchiveSettings& s, Job& job) {
  if (!s.to.file.empty()) return file_mover(source, s.to.file, job);
  if (s.to.database && !same_database(source, *s.to.database))
    return database_mover(source, *s.to.database, job);
  return same_database_mover(source, job);
}

std::string default_job(const ArchiveSettings& s, const Database& source,
                        const TableName& destination) {
  // The source's location keeps shards that archive into one database apart.
  const std::string from = fmt::format("{} on {}", s.table, source.description());
  if (!s.to.file.empty()) return fmt::format("{} -> {}", from, s.to.file.string());
  if (s.to.database && !same_database(source, *s.to.database)) {
    return fmt::format("{} -> {} on {}", from, destination.text, s.to.database->description());
  }
  return fmt::format("{} -> {}", from, destination.text);
}

}  // namespace

double ArchiveReport::rows_per_second() const {
  return duration.count() > 0
             ? static_cast<double>(rows) * 1000.0 / static_cast<double>(duration.count())
             : 0.0;
}

Archiver::Archiver(Database source, ArchiveSettings settings)
    : source_(std::move(source)), settings_(std::move(settings)) {
  if (settings_.table.empty()) throw ConfigError("archive: name the source table");
  if (settings_.where.empty()) {
    throw ConfigError(
        "archive: give a condition for the rows to archive (use 'true' to archive every row)");
  }
  if (settings_.batch_size == 0) throw ConfigError("archive: batch_size must be at least 1");
  if (settings_.to.database && !settings_.to.file.empty()) {
    throw ConfigError("archive: the destination is either another database or a file, not both");
  }
  if (!settings_.to.file.empty() && !settings_.to.table.empty()) {
    throw ConfigError("archive: a file destination takes no table name");
  }
  if (settings_.lag.enabled() && source_.dialect() != Dialect::postgres) {
    throw ConfigError("archive: replication lag limits apply to PostgreSQL sources only");
  }
  parse_table_name(settings_.table);  // validates the names now
  if (!settings_.to.table.empty()) parse_table_name(settings_.to.table);
  if (!settings_.to.file.empty()) FileSink{settings_.to.file};  // a known file format
}

ArchiveReport Archiver::run() {
  const auto start = Clock::now();
  ArchiveSettings s = settings_;
  const bool same = !s.to.database || same_database(source_, *s.to.database);
  const TableName destination = destination_table(s, same && s.to.file.empty());
  if (s.job.empty()) s.job = default_job(s, source_, destination);

  ArchiveReport report{.job = s.job, .dry_run = s.dry_run};
  Lease control = source_.connection();  // holds the job lock (and probes lag) for the run
  Job job{.settings = s,
          .source = describe_source(*control, parse_table_name(s.table), s.key),
          .destination = destination,
          .report = report};
  const JobLock lock(*control, s.job, s.lock_wait);
  std::optional<FileLock> file_lock;  // one writer per file, whatever its job
  if (!s.to.file.empty() && !s.dry_run) file_lock.emplace(s.to.file, s.lock_wait);
  std::unique_ptr<Mover> mover = mover_for(source_, s, job);

  std::optional<Checkpoint> existing = mover->load();
  if (existing && existing->state == JobState::copied && !s.dry_run) mover->recover(*existing);
  const bool fresh =
      !existing || existing->state == JobState::finished || existing->condition != condition_of(s);
  Checkpoint checkpoint =
      fresh ? Checkpoint{.job = s.job,
                         .source =
                             fmt::format("{} on {}", job.source.table.text, source_.description()),
                         .destination = mover->destination(),
                         .condition = condition_of(s)}
            : *existing;
  report.resumed = !fresh;

  const std::uint64_t total =
      s.count_first || s.dry_run ? count_matching(source_, job, checkpoint.last_key) : 0;
  if (s.dry_run) {
    report.matching = total;
    report.statements = mover->statements(checkpoint, s.batch_size);
    report.duration = since(start);
    return report;
  }
  mover->begin(checkpoint, fresh);

  std::optional<LagProbe> probe;
  if (s.lag.enabled()) probe.emplace(s.lag);
  ArchiveProgress progress{.total = total};
  for (;;) {
    if (s.max_rows > 0 && report.rows >= s.max_rows) break;
    const std::size_t limit = s.max_rows > 0 ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                                   s.batch_size, s.max_rows - report.rows))
                                             : s.batch_size;
    if (probe) wait_for_replicas(*probe, *control, s, report, progress);
    const BatchResult batch = mover->move(checkpoint, limit);
    report.rows += batch.rows;
    if (batch.rows > 0) ++report.batches;
    progress.rows = report.rows;
    progress.batches = report.batches;
    if (s.progress) s.progress(progress);
    if (batch.exhausted) {
      checkpoint.state = JobState::finished;
      mover->save(checkpoint);
      break;
    }
    if (s.pause.count() > 0) std::this_thread::sleep_for(s.pause);
  }
  report.duration = since(start);
  return report;
}

std::vector<ArchiveShardOutcome> archive_shards(std::span<const ArchiveShard> shards,
                                                const ArchiveSettings& settings) {
  std::vector<ArchiveShardOutcome> out;
  for (const ArchiveShard& shard : shards) {
    ArchiveSettings s = settings;
    if (shard.destination) s.to.database = shard.destination;
    if (!shard.replicas.empty()) s.lag.replicas = shard.replicas;
    if (!s.job.empty() && shards.size() > 1) s.job += "@" + shard.name;
    if (!s.to.file.empty() && shards.size() > 1) {
      const auto& f = settings.to.file;
      std::string name = f.filename().string();
      const auto dot = name.find('.');
      name = dot == std::string::npos ? name + "-" + shard.name
                                      : name.substr(0, dot) + "-" + shard.name + name.substr(dot);
      s.to.file = f.parent_path() / name;
    }
    ArchiveShardOutcome outcome{.name = shard.name};
    try {
      outcome.report = Archiver(shard.source, s).run();
    } catch (const std::exception& e) {
      outcome.error = e.what();
    }
    out.push_back(std::move(outcome));
  }
  return out;
}

}  // namespace nexdb
