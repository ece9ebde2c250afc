#include "monitor/query_stats.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include "nexdb/sql_text.hpp"

namespace nexdb::monitor_detail {

namespace {
thread_local bool internal_scope = false;

// A thread's recently seen statement texts, direct-mapped by hash: a hit needs no lock. Entries
// belong to a QueryMetrics instance; ids are never reused, so a stale entry never matches.
struct CachedText {
  std::uint64_t instance = 0;
  std::uint64_t hash = 0;
  std::string cluster, host, sql;
  bool by_name = false;
  QuerySeries* series = nullptr;
};
constexpr std::size_t thread_cache_size = 32;
thread_local std::array<CachedText, thread_cache_size> thread_cache;
std::atomic<std::uint64_t> next_instance{1};

constexpr std::size_t max_query_text = 300;  // label values stay readable and bounded

// The length of the valid UTF-8 sequence at the start of `text`, 0 if it is not one.
std::size_t utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  const std::size_t length = lead < 0x80                    ? 1
                             : lead >= 0xF0 && lead <= 0xF4 ? 4
                             : lead >= 0xE0                 ? 3
                             : lead >= 0xC2 && lead < 0xE0  ? 2
                                                            : 0;
  if (length == 0 || length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  if (length == 3 && ((lead == 0xE0 && byte(1) < 0xA0) || (lead == 0xED && byte(1) >= 0xA0)))
    return 0;  // overlong, surrogate
  if (length == 4 && ((lead == 0xF0 && byte(1) < 0x90) || (lead == 0xF4 && byte(1) >= 0x90)))
    return 0;  // overlong, beyond U+10FFFF
  return length;
}

// Label values must be UTF-8 (Prometheus rejects the scrape otherwise): invalid bytes become '?',
// and a clipped text ends on a character boundary.
std::string clip(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text.substr(i));
    out += length == 0 ? std::string_view("?") : text.substr(i, length);
    i += std::max<std::size_t>(length, 1);
  }
  if (out.size() <= max_query_text) return out;
  std::size_t cut = max_query_text - 3;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "...";
}

std::string hex_of(std::uint64_t value) { return fmt::format("{:016x}", value); }
}  // namespace

std::string query_label(std::string_view sql) { return clip(sql::normalize_any(sql)); }

InternalScope::InternalScope() noexcept : previous_(internal_scope) { internal_scope = true; }
InternalScope::~InternalScope() { internal_scope = previous_; }
bool InternalScope::active() noexcept { return internal_scope; }

std::uint64_t QueryMetrics::cluster_seed(std::string_view cluster) noexcept {
  return XXH3_64bits(cluster.data(), cluster.size());
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
      instance_(next_instance.fetch_add(1, std::memory_order_relaxed)),
      durations_on_(durations),
      errors_on_(errors) {}

Shape QueryMetrics::shape_of(Dialect dialect, std::string_view sql, bool by_name) {
  Shape shape;
  if (by_name) {
    shape.query = "EXECUTE " + std::string(sql);
    shape.fingerprint = hex_of(XXH3_64bits(shape.query.data(), shape.query.size()));
  } else if (auto fp = dialect == Dialect::postgres ? sql::try_fingerprint(sql) : std::nullopt) {
    shape.fingerprint = fp->hex;
    shape.query = query_label(sql);
  } else {
    shape.query = query_label(sql);
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
  s.other = shape.fingerprint == "other";
  s.histogram = &durations_.with({cluster, host, shape.fingerprint});
  s.max_gauge = &max_durations_.with({cluster, host, shape.fingerprint});
  series_index_.emplace(std::move(key), &s);
  return s;
}

QuerySeries& QueryMetrics::lookup(const KeyView& key, std::uint64_t hash, Dialect dialect) {
  CachedText& slot = thread_cache[hash % thread_cache_size];
  if (slot.instance == instance_ && slot.hash == hash &&
      same({slot.cluster, slot.host, slot.sql, slot.by_name}, key)) {
    return *slot.series;
  }
  QuerySeries& s = lookup_shared(key, hash, dialect);
  slot.instance = 0;  // half-written until the end, should an allocation throw
  slot.cluster.assign(key.cluster);
  slot.host.assign(key.host);
  slot.sql.assign(key.sql);
  slot.by_name = key.by_name;
  slot.hash = hash;
  slot.series = &s;
  slot.instance = instance_;
  return s;
}

QuerySeries& QueryMetrics::lookup_shared(const KeyView& key, std::uint64_t hash, Dialect dialect) {
  Shard& shard = shards_[hash % shard_count];
  {
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.texts.find(HashedView{key, hash}); it != shard.texts.end())
      return *it->second;
  }
  // First time this text is seen: parse it outside the shard lock.
  const Shape shape = shape_of(dialect, key.sql, key.by_name);
  QuerySeries& s = series(key.cluster, key.host, shape);
  std::lock_guard lock(shard.mutex);
  if (shard.texts.size() >= texts_per_shard) shard.texts.clear();  // dynamic SQL: bound the cache
  shard.texts.emplace(HashedKey{Key{std::string(key.cluster), std::string(key.host),
                                    std::string(key.sql), key.by_name},
                                hash},
                      &s);
  return s;
}

void QueryMetrics::record(std::string_view cluster, std::uint64_t cluster_seed,
                          const StatementEvent& event) noexcept {
  try {
    if (durations_on_) {
      const std::uint64_t hash =
          XXH3_64bits_withSeed(
              event.sql.data(), event.sql.size(),
              XXH3_64bits_withSeed(event.host.data(), event.host.size(), cluster_seed)) ^
          (event.prepared_by_name ? 1 : 0);
      QuerySeries& s =
          lookup({cluster, event.host, event.sql, event.prepared_by_name}, hash, event.dialect);
      const std::int64_t ns = event.duration.count();
      s.histogram->observe(static_cast<double>(ns) * 1e-9);
      s.note(ns);
      if (s.other) overflow_.inc();
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
