#include "archive/checkpoint.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "archive/table.hpp"
#include "backup/durable_file.hpp"
#include "nexdb/archive.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb::archive_detail {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kColumns =
    "job, source, destination, condition, state, last_key, previous_key, pending_first, "
    "pending_last, pending_rows, rows_moved, batches, updated_at, pending_keys";
constexpr int kColumnCount = 14;

JobState state_from(std::string_view text) {
  if (text == "copied") return JobState::copied;
  if (text == "finished") return JobState::finished;
  return JobState::running;
}

Value key_value(const std::optional<Value>& key) { return key ? Value(encode_key(*key)) : Value(); }

std::optional<Value> key_from(const Value& text) {
  if (text.is_null()) return std::nullopt;
  return decode_key(text.as<std::string>());
}

Json key_json(const std::optional<Value>& key) {
  return key ? Json(encode_key(*key)) : Json(nullptr);
}

std::optional<Value> key_from(const Json& j) {
  if (j.is_null()) return std::nullopt;
  return decode_key(j.get<std::string>());
}

Json keys_json(const std::vector<Value>& keys) {
  Json out = Json::array();
  for (const Value& k : keys) out.push_back(encode_key(k));
  return out;
}

std::vector<Value> keys_from(const Json& j) {
  std::vector<Value> out;
  out.reserve(j.size());
  for (const Json& k : j) out.push_back(decode_key(k.get<std::string>()));
  return out;
}

/// The pending keys as stored in the table: a JSON array of encoded keys, NULL when none.
Value keys_value(const std::vector<Value>& keys) {
  return keys.empty() ? Value() : Value(keys_json(keys).dump());
}

std::vector<Value> keys_from(const Value& text) {
  if (text.is_null()) return {};
  try {
    return keys_from(Json::parse(text.as<std::string>()));
  } catch (const Json::exception& e) {
    throw ArchiveError(fmt::format("the checkpoint's pending keys are unreadable: {}", e.what()));
  }
}

}  // namespace

std::string_view to_string(JobState state) noexcept {
  switch (state) {
    case JobState::running:
      return "running";
    case JobState::copied:
      return "copied";
    case JobState::finished:
      return "finished";
  }
  return "?";
}

void settle(Checkpoint& c, std::uint64_t moved) {
  c.state = JobState::running;
  c.rows_moved += moved;
  if (moved > 0) c.batches += 1;
  c.previous_key.reset();
  c.pending_first.reset();
  c.pending_last.reset();
  c.pending_rows = 0;
  c.pending_keys.clear();
}

void TableCheckpoints::create_if_missing() {
  const bool pg = connection_.dialect() == Dialect::postgres;
  connection_.execute_script(
      fmt::format("CREATE TABLE IF NOT EXISTS {} (job TEXT PRIMARY KEY, source TEXT NOT NULL, "
                  "destination TEXT NOT NULL, "
                  "condition TEXT NOT NULL, state TEXT NOT NULL, last_key TEXT, previous_key TEXT, "
                  "pending_first TEXT, "
                  "pending_last TEXT, pending_rows BIGINT NOT NULL, rows_moved BIGINT NOT NULL, "
                  "batches BIGINT NOT NULL, "
                  "updated_at {} NOT NULL, pending_keys TEXT)",
                  kCheckpointTable, pg ? "TIMESTAMPTZ" : "TIMESTAMP"));
  // Tables created before the batch's exact keys were recorded.
  const Rows has_keys = connection_.execute(
      pg ? fmt::format("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('{}') "
                       "AND attname = 'pending_keys' AND NOT attisdropped",
                       kCheckpointTable)
         : fmt::format("SELECT 1 FROM pragma_table_info('{}') WHERE name = 'pending_keys'",
                       kCheckpointTable));
  if (has_keys.empty()) {
    connection_.execute_script(
        fmt::format("ALTER TABLE {} ADD COLUMN pending_keys TEXT", kCheckpointTable));
  }
}

std::optional<Checkpoint> TableCheckpoints::load(const std::string& job) {
  const Rows rows =
      connection_.execute(fmt::format("SELECT {} FROM {} WHERE job = {}", kColumns,
                                      kCheckpointTable, placeholder(connection_.dialect(), 1)),
                          job);
  if (rows.empty()) return std::nullopt;
  const Row r = rows[0];
  Checkpoint c{.job = r.get<std::string>(0),
               .source = r.get<std::string>(1),
               .destination = r.get<std::string>(2),
               .condition = r.get<std::string>(3),
               .state = state_from(r.get<std::string>(4))};
  c.last_key = key_from(r[5]);
  c.previous_key = key_from(r[6]);
  c.pending_first = key_from(r[7]);
  c.pending_last = key_from(r[8]);
  c.pending_rows = r.get<std::uint64_t>(9);
  c.rows_moved = r.get<std::uint64_t>(10);
  c.batches = r.get<std::uint64_t>(11);
  c.pending_keys = keys_from(r[13]);
  return c;
}

void TableCheckpoints::save(const Checkpoint& c) {
  const Dialect d = connection_.dialect();
  const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  // One upsert, the same in both dialects.
  connection_.execute(Statement{
      fmt::format(
          "INSERT INTO {} ({}) VALUES {} ON CONFLICT (job) DO UPDATE SET source = excluded.source, "
          "destination = excluded.destination, condition = excluded.condition, "
          "state = excluded.state, last_key = excluded.last_key, "
          "previous_key = excluded.previous_key, pending_first = excluded.pending_first, "
          "pending_last = excluded.pending_last, pending_rows = excluded.pending_rows, "
          "rows_moved = excluded.rows_moved, batches = excluded.batches, "
          "updated_at = excluded.updated_at, pending_keys = excluded.pending_keys",
          kCheckpointTable, kColumns, values_list(d, 1, kColumnCount, 1)),
      {c.job, c.source, c.destination, c.condition, to_string(c.state), key_value(c.last_key),
       key_value(c.previous_key), key_value(c.pending_first), key_value(c.pending_last),
       static_cast<std::int64_t>(c.pending_rows), static_cast<std::int64_t>(c.rows_moved),
       static_cast<std::int64_t>(c.batches), Value(now), keys_value(c.pending_keys)}});
}

std::filesystem::path checkpoint_path(const std::filesystem::path& archive_file) {
  return archive_file.string() + ".checkpoint";
}

std::optional<Checkpoint> load_file_checkpoint(const std::filesystem::path& archive_file) {
  const auto path = checkpoint_path(archive_file);
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    const Json j = Json::parse(backup_detail::read_file(path));
    Checkpoint c{.job = j.at("job"),
                 .source = j.at("source"),
                 .destination = j.at("destination"),
                 .condition = j.at("condition"),
                 .state = state_from(j.at("state").get<std::string>())};
    c.last_key = key_from(j.at("last_key"));
    c.previous_key = key_from(j.at("previous_key"));
    c.pending_rows = j.at("pending_rows");
    c.rows_moved = j.at("rows_moved");
    c.batches = j.at("batches");
    c.size_before = j.at("size_before");
    c.committed_size = j.at("committed_size");
    c.pending_keys = keys_from(j.at("pending_keys"));
    return c;
  } catch (const Json::exception& e) {
    throw ArchiveError(fmt::format("checkpoint {} is unreadable: {}", path.string(), e.what()));
  }
}

void save_file_checkpoint(const std::filesystem::path& archive_file, const Checkpoint& c) {
  const Json j = {{"job", c.job},
                  {"source", c.source},
                  {"destination", c.destination},
                  {"condition", c.condition},
                  {"state", to_string(c.state)},
                  {"last_key", key_json(c.last_key)},
                  {"previous_key", key_json(c.previous_key)},
                  {"pending_rows", c.pending_rows},
                  {"rows_moved", c.rows_moved},
                  {"batches", c.batches},
                  {"size_before", c.size_before},
                  {"committed_size", c.committed_size},
                  {"pending_keys", keys_json(c.pending_keys)}};
  backup_detail::write_file_atomically(checkpoint_path(archive_file), j.dump());
}

}  // namespace nexdb::archive_detail
