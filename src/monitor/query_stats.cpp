#include "monitor/query_stats.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include "nexdb/sql_text.hpp"

namespace nexdb::monitor_detail {

namespace {
thread_local bool internal_scope = false;

constexpr std::size_t max_query_text = 300;  // label values stay readable and bounded

std::string clip(std::string text) {
  if (text.size() > max_query_text) {
    text.resize(max_query_text - 3);
    text += "...";
  }
  return text;
}

std::string hex_of(std::uint64_t value) { return fmt::format("{:016x}", value); }
}  // namespace

InternalScope::InternalScope() noexcept : previous_(internal_scope) { internal_scope = true; }
InternalScope::~InternalScope() { internal_scope = previous_; }
bool InternalScope::active() noexcept { return internal_scope; }

std::size_t QueryMetrics::KeyHash::operator()(const KeyView& k) const noexcept {
  std::uint64_t h = XXH3_64bits(k.sql.data(), k.sql.size());
  h = XXH3_64bits_withSeed(k.host.data(), k.host.size(), h);
  h = XXH3_64bits_withSeed(k.cluster.data(), k.cluster.size(), h);
  return static_cast<std::size_t>(h + (k.by_name ? 1 : 0));
}

QueryMetrics::QueryMetrics(metrics::Registry& registry, std::vector<double> buckets,
                           std::size_t max_fingerprints, bool durations, bool errors)
    : durations_(registry.histogram("nexdb_query_duration_seconds",
                                    "Statements run by this process, by shape (query fingerprint)",
                                    {"cluster", "host", "fingerprint"}, std::move(buckets))),
      max_durations_(registry.gauge("nexdb_query_duration_max_seconds",
                                    "Slowest statement of each shape in the last monitor interval "
                                    "(finished, or still running on the server)",
                                    {"cluster", "host", "fingerprint"})),
      shapes_gauge_(registry.gauge("nexdb_query_shape",
                                   "Normalised text of each query fingerprint (value always 1)",
                                   {"fingerprint", "query"})),
      errors_(registry.counter("nexdb_statement_errors_total",
                               "Failed statements by SQLSTATE class (first two characters)",
                               {"cluster", "host", "class"})),
      client_deadlocks_(registry.counter("nexdb_client_deadlocks_total",
                                         "Statements of this process that failed with 40P01 "
                                         "(deadlock detected)",
                                         {"cluster", "host"})),
      overflow_(registry
                    .counter("nexdb_query_shapes_overflow_total",
                             "Statements counted under fingerprint \"other\" because "
                             "max_fingerprints shapes were already tracked")
                    .with({})),
      max_fingerprints_(max_fingerprints),
      durations_on_(durations),
      errors_on_(errors) {}

Shape QueryMetrics::shape_of(Dialect dialect, std::string_view sql, bool by_name) {
  Shape shape;
  if (by_name) {
    shape.query = "EXECUTE " + std::string(sql);
    shape.fingerprint = hex_of(XXH3_64bits(shape.query.data(), shape.query.size()));
  } else if (auto fp = dialect == Dialect::postgres ? sql::try_fingerprint(sql) : std::nullopt) {
    shape.fingerprint = fp->hex;
    shape.query = clip(sql::normalize_any(sql));
  } else {
    shape.query = clip(sql::normalize_any(sql));
    shape.fingerprint = hex_of(XXH3_64bits(shape.query.data(), shape.query.size()));
  }
  std::lock_guard lock(series_mutex_);
  if (auto it = shapes_.find(shape.fingerprint); it != shapes_.end()) return it->second;
  if (shapes_.size() >= max_fingerprints_) return Shape{"other", "(other statements)"};
  shapes_gauge_.with({shape.fingerprint, shape.query}).set(1);
  return shapes_.emplace(shape.fingerprint, shape).first->second;
}

QuerySeries& QueryMetrics::series(std::string_view cluster, std::string_view host,
                                  const Shape& shape) {
  std::string key(cluster);
  key.append(1, '\xff').append(host).append(1, '\xff').append(shape.fingerprint);
  std::lock_guard lock(series_mutex_);
  if (auto it = series_index_.find(key); it != series_index_.end()) return *it->second;
  QuerySeries& s = series_.emplace_back();
  s.cluster = std::string(cluster);
  s.host = std::string(host);
  s.shape = shape;
  s.histogram = &durations_.with({cluster, host, shape.fingerprint});
  s.max_gauge = &max_durations_.with({cluster, host, shape.fingerprint});
  series_index_.emplace(std::move(key), &s);
  return s;
}

QuerySeries& QueryMetrics::lookup(const KeyView& key, Dialect dialect) {
  Shard& shard = shards_[KeyHash{}(key) % shard_count];
  {
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.texts.find(key); it != shard.texts.end()) return *it->second;
  }
  // First time this text is seen: parse it outside the shard lock.
  const Shape shape = shape_of(dialect, key.sql, key.by_name);
  QuerySeries& s = series(key.cluster, key.host, shape);
  std::lock_guard lock(shard.mutex);
  if (shard.texts.size() >= texts_per_shard) shard.texts.clear();  // dynamic SQL: bound the cache
  shard.texts.emplace(
      Key{std::string(key.cluster), std::string(key.host), std::string(key.sql), key.by_name}, &s);
  return s;
}

void QueryMetrics::record(std::string_view cluster, const StatementEvent& event) noexcept {
  try {
    if (durations_on_) {
      QuerySeries& s =
          lookup({cluster, event.host, event.sql, event.prepared_by_name}, event.dialect);
      const std::int64_t ns = event.duration.count();
      s.histogram->observe(static_cast<double>(ns) * 1e-9);
      s.note(ns);
      if (s.shape.fingerprint == "other") overflow_.inc();
    }
    if (errors_on_ && !event.sqlstate.empty()) count_error(cluster, event.host, event.sqlstate);
  } catch (...) {  // out of memory: lose one sample, never the statement
  }
}

void QueryMetrics::count_error(std::string_view cluster, std::string_view host,
                               std::string_view sqlstate) {
  errors_.with({cluster, host, sqlstate.substr(0, 2)}).inc();
  if (sqlstate == "40P01") client_deadlocks_.with({cluster, host}).inc();
}

std::vector<std::pair<QuerySeries*, double>> QueryMetrics::take_windows() {
  std::vector<std::pair<QuerySeries*, double>> out;
  std::lock_guard lock(series_mutex_);
  for (QuerySeries& s : series_) {
    const std::int64_t ns = s.window_max_ns.exchange(0, std::memory_order_relaxed);
    out.emplace_back(&s, static_cast<double>(ns) / 1e6);
  }
  return out;
}

std::vector<QuerySeries*> QueryMetrics::all_series() const {
  std::lock_guard lock(series_mutex_);
  std::vector<QuerySeries*> out;
  for (const QuerySeries& s : series_) out.push_back(const_cast<QuerySeries*>(&s));
  return out;
}

}  // namespace nexdb::monitor_detail
