// The archiver killed exactly where a crash leaves a batch half done (fault points, see
// src/archive/fault.hpp), then resumed: the next run must find the checkpoint in that state,
// settle the batch the documented way, and finish with every row exactly once — in the source
// if it does not match, in the archive if it does. Keys: integers, text under a collation that
// does not order like bytes, and numerics (TEXT in a SQLite archive); destinations: another
// database of the same kind, SQLite after PostgreSQL, and a gzip file. Built twice: PostgreSQL
// and SQLite sources.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "backup_support.hpp"
#include "nexdb/database.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

constexpr Dialect kDialect = NEXDB_TEST_DIALECT;
constexpr bool kPostgres = kDialect == Dialect::postgres;
constexpr int kRows = 40;  // n = 0..39; the rows with n % 4 <> 0 go: 30
constexpr int kArchived = 30;
constexpr int kBatch = 8;  // batches of 8, 8, 8, 6; the kill comes in the first or second

enum class Key { integer, collated_text, numeric };
enum class To { same_kind_database, sqlite_database, gzip_file };

struct Case {
  Key key;
  To to;
  std::string fault;  // the fault point the batch dies at
  int batch;          // 1: no position recorded yet; 2: after a finished batch
};

std::string name_of(const Case& c) {
  const char* keys[] = {"IntegerKey", "CollatedTextKey", "NumericKey"};
  const char* tos[] = {"ToSameKindOfDatabase", "ToSqlite", "ToGzipFile"};
  std::string point = c.fault;
  std::erase(point, '-');
  return fmt::format("{}_{}_{}_batch{}", keys[static_cast<int>(c.key)], tos[static_cast<int>(c.to)],
                     point, c.batch);
}

void PrintTo(const Case& c, std::ostream* os) { *os << name_of(c); }

std::vector<Case> cases() {
  std::vector<Case> out;
  std::vector<To> databases{To::same_kind_database};
  if (kPostgres) databases.push_back(To::sqlite_database);  // across dialects
  // The first batch's keys straddle the places where the orders differ (6.5 < 20.0 but
  // "6.5" > "20.0"; B01 < c02 < D03 but "B01" < "D03" < "c02"), so a lookup by key range
  // on the destination would miss some of them.
  for (int batch : {1, 2}) {
    for (Key key : {Key::integer, Key::collated_text, Key::numeric}) {
      for (To to : databases) {
        for (const char* fault : {"destination-committed", "source-committed"})
          out.push_back({key, to, fault, batch});
      }
      for (const char* fault : {"file-appended", "file-recorded", "source-committed"})
        out.push_back({key, To::gzip_file, fault, batch});
    }
  }
  return out;
}

/// The key column's declaration and the i-th key (i = 0..39) as SQL text for the INSERT.
std::string key_type(Key key) {
  switch (key) {
    case Key::integer:
      return "BIGINT";
    case Key::collated_text:
      // Case-insensitive first: b01 < C02 < d03, where bytes say C02 < b01.
      return kPostgres ? "TEXT COLLATE \"en-x-icu\"" : "TEXT COLLATE NOCASE";
    case Key::numeric:
      return "NUMERIC";  // 5.0 ... 63.5: as text, "10.5" sorts before "5.0"
  }
  return "";
}
std::string key_literal(Key key, int i) {
  switch (key) {
    case Key::integer:
      return std::to_string(1000 - i * 7);
    case Key::collated_text:
      return fmt::format("'{}{:02}'", static_cast<char>((i % 2 ? 'A' : 'a') + i % 26), i);
    case Key::numeric:
      return fmt::format("{:.1f}", 5.0 + i * 1.5);
  }
  return "";
}

/// A key as text that means the same in every place it may end up (number or string).
std::string canonical(const Value& v) {
  if (v.type() == ValueType::integer) return std::to_string(v.as<std::int64_t>());
  if (v.type() == ValueType::real) return fmt::format("{}", v.as<double>());
  return v.as<std::string>();
}
std::string canonical(const nlohmann::json& j) {
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (j.is_number_float()) return fmt::format("{}", j.get<double>());
  return j.get<std::string>();
}

struct Summary {
  std::uint64_t rows = 0, recovered = 0, uncopied = 0;
  bool resumed = false;
};
Summary parse_summary(const std::string& output) {
  Summary s;
  int resumed = 0;
  unsigned long long rows = 0, recovered = 0, uncopied = 0;
  EXPECT_EQ(std::sscanf(output.c_str(), "rows=%llu recovered=%llu uncopied=%llu resumed=%d", &rows,
                        &recovered, &uncopied, &resumed),
            4)
      << output;
  s.rows = rows;
  s.recovered = recovered;
  s.uncopied = uncopied;
  s.resumed = resumed == 1;
  return s;
}

struct SUITE(ArchiveFault) : ::testing::TestWithParam<Case> {
  TempDir dir;
  std::optional<PgSchema> schema;      // the PostgreSQL source
  std::optional<OtherDatabase> other;  // database destinations
  std::string source_uri;
  std::string target_uri;  // database destinations
  std::string file;        // the gzip file destination
  std::optional<Database> source;
  std::optional<Database> target;
  std::set<std::string> all_keys;
  std::set<std::string> matching_keys;
  const std::string job = fmt::format("fault test {}", ::getpid());

  void SetUp() override {
    const Case& c = GetParam();
    if (kPostgres) {
      schema.emplace();
      source_uri = schema->uri();
    } else {
      source_uri = "sqlite:" + dir.path() + "/app.db";
    }
    source.emplace(Database::open(source_uri));
    source->execute(
        fmt::format("CREATE TABLE items (k {} PRIMARY KEY, n INTEGER NOT NULL, note TEXT NOT NULL)",
                    key_type(c.key)));
    for (int i = 0; i < kRows; ++i) {
      source->execute(fmt::format("INSERT INTO items (k, n, note) VALUES ({}, {}, 'row {}')",
                                  key_literal(c.key, i), i, i));
    }
    for (Row r : source->execute("SELECT k, n FROM items")) {
      all_keys.insert(canonical(r[0]));
      if (r.get<std::int64_t>(1) % 4 != 0) matching_keys.insert(canonical(r[0]));
    }
    ASSERT_EQ(matching_keys.size(), static_cast<std::size_t>(kArchived));
    if (c.to == To::gzip_file) {
      file = dir.path() + "/items.jsonl.gz";
    } else {
      const Dialect kind = c.to == To::same_kind_database ? kDialect : Dialect::sqlite;
      target_uri = other.emplace(kind, dir.path() + "/archive.db").uri();
    }
  }
  void TearDown() override {
    if (target) target->close();
    if (source) source->close();
  }

  ProcessEnd run_archiver(const std::string& fault) {
    std::vector<std::string> argv{NEXDB_ARCHIVE_RUNNER,   source_uri, "items", "n % 4 <> 0",
                                  std::to_string(kBatch), "0"};
    if (file.empty()) {
      argv.insert(argv.end(), {"database", target_uri, "items"});
    } else {
      argv.insert(argv.end(), {"file", file});
    }
    std::vector<std::string> env{"NEXDB_ARCHIVE_JOB=" + job};
    if (!fault.empty())
      env.push_back(fmt::format("NEXDB_ARCHIVE_FAULT={}:{}", fault, GetParam().batch));
    return finish_process(start_process(argv, env, true));
  }

  Database& destination() {
    if (!target) target.emplace(Database::open(target_uri));
    return *target;
  }
  std::string checkpoint_state() {
    if (!file.empty()) {
      std::ifstream in(file + ".checkpoint");
      return nlohmann::json::parse(in).at("state");
    }
    const std::string sql =
        fmt::format("SELECT state FROM nexdb_archive_checkpoint WHERE job = {}",
                    kPostgres && GetParam().to == To::same_kind_database ? "$1" : "?");
    return destination().execute(sql, job).scalar<std::string>();
  }
  std::uint64_t committed_size() {
    std::ifstream in(file + ".checkpoint");
    return nlohmann::json::parse(in).at("committed_size");
  }

  std::multiset<std::string> source_keys() {
    std::multiset<std::string> out;
    for (Row r : source->execute("SELECT k FROM items")) out.insert(canonical(r[0]));
    return out;
  }
  std::multiset<std::string> archived_keys() {
    std::multiset<std::string> out;
    if (file.empty()) {
      for (Row r : destination().execute("SELECT k FROM items")) out.insert(canonical(r[0]));
      return out;
    }
    gzFile f = gzopen(file.c_str(), "rb");
    EXPECT_NE(f, nullptr);
    if (f == nullptr) return out;
    char line[4096];
    while (gzgets(f, line, sizeof line) != nullptr)
      out.insert(canonical(nlohmann::json::parse(line).at("k")));
    gzclose(f);
    return out;
  }
  /// Keys that are in the source and in the archive at once (while the batch is half done).
  std::size_t in_both() {
    const auto s = source_keys();
    const auto a = archived_keys();
    std::size_t both = 0;
    for (const auto& k : std::set<std::string>(a.begin(), a.end())) both += s.count(k);
    return both;
  }
};

TEST_P(SUITE(ArchiveFault), TheNextRunSettlesTheHalfDoneBatchExactlyOnce) {
  const Case& c = GetParam();
  const std::size_t done = static_cast<std::size_t>((c.batch - 1) * kBatch);  // before the kill
  const ProcessEnd crashed = run_archiver(c.fault);
  ASSERT_TRUE(crashed.killed && crashed.signal == SIGKILL)
      << "the fault point was never reached: " << crashed.output;

  // The crash left what this fault point leaves: the batch half done.
  if (c.fault == "file-appended") {
    EXPECT_EQ(checkpoint_state(), "running");
    EXPECT_GT(std::filesystem::file_size(file), committed_size()) << "an unrecorded batch";
  } else {
    EXPECT_EQ(checkpoint_state(), "copied");
    const bool deleted = c.fault == "source-committed";
    EXPECT_EQ(in_both(), deleted ? 0u : static_cast<std::size_t>(kBatch));
    EXPECT_EQ(archived_keys().size(), done + kBatch);
    EXPECT_EQ(source_keys().size(), kRows - done - (deleted ? kBatch : 0));
  }

  const ProcessEnd resumed = run_archiver("");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const Summary s = parse_summary(resumed.output);
  EXPECT_TRUE(s.resumed);
  if (c.fault == "source-committed") {
    EXPECT_EQ(s.recovered, static_cast<std::uint64_t>(kBatch)) << "its rows count as moved";
    EXPECT_EQ(s.uncopied, 0u);
  } else if (c.fault == "file-appended") {
    EXPECT_EQ(s.recovered + s.uncopied, 0u) << "no checkpoint recorded the batch: it is cut off";
  } else {
    EXPECT_EQ(s.uncopied, static_cast<std::uint64_t>(kBatch)) << "taken back out of the archive";
    EXPECT_EQ(s.recovered, 0u);
  }
  EXPECT_EQ(s.rows + s.recovered, kArchived - done);
  EXPECT_EQ(checkpoint_state(), "finished");

  // Every row exactly once: the matching ones in the archive, the others in the source.
  const auto archived = archived_keys();
  const auto left = source_keys();
  EXPECT_EQ(archived.size(), static_cast<std::size_t>(kArchived)) << "a row doubled or lost";
  EXPECT_EQ(std::set<std::string>(archived.begin(), archived.end()), matching_keys);
  std::set<std::string> union_keys(left.begin(), left.end());
  union_keys.insert(archived.begin(), archived.end());
  EXPECT_EQ(union_keys, all_keys);
  EXPECT_EQ(left.size() + archived.size(), all_keys.size());
}

// Through a macro of our own, so that SUITE(...) expands before gtest pastes tokens to it.
#define NEXDB_INSTANTIATE(prefix, suite, generator, name) \
  INSTANTIATE_TEST_SUITE_P(prefix, suite, generator, name)
NEXDB_INSTANTIATE(Points, SUITE(ArchiveFault), ::testing::ValuesIn(cases()),
                  [](const auto& info) { return name_of(info.param); });

}  // namespace
}  // namespace nexdb::test
