// Statement metrics from the StatementObserver hook: a duration histogram per cluster, host and
// query fingerprint, the slowest statement of each shape per interval, errors by SQLSTATE class.
//
// Fingerprinting parses the SQL (libpg_query), which costs far more than the statement's
// bookkeeping, so each distinct SQL text is fingerprinted once and remembered in a sharded cache.
// In front of it each thread keeps a small cache of its own, so the hot path for a text seen
// before is a hash, a compare, a histogram increment and an atomic max: no lock, no allocation.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "nexdb/metrics.hpp"
#include "nexdb/observer.hpp"

namespace nexdb::monitor_detail {

/// Marks the monitor's own statements on this thread so they are not counted as the
/// application's.
class InternalScope {
 public:
  InternalScope() noexcept;
  ~InternalScope();
  InternalScope(const InternalScope&) = delete;
  InternalScope& operator=(const InternalScope&) = delete;
  static bool active() noexcept;

 private:
  bool previous_;
};

/// The text a statement is shown by (labels, alerts, snapshots): normalised — no literal, no
/// comment — and at most 300 characters.
std::string query_label(std::string_view sql);

/// A statement shape: fingerprint (16 hex digits, or "other") and normalised text.
struct Shape {
  std::string fingerprint{};
  std::string query{};
};

/// One cluster/host/fingerprint series.
struct QuerySeries {
  std::string cluster{};
  std::string host{};
  Shape shape{};
  bool other = false;  // the overflow series
  metrics::Histogram* histogram = nullptr;
  metrics::Gauge* max_gauge = nullptr;
  std::atomic<std::int64_t> window_max_ns{0};
  void note(std::int64_t ns) noexcept {
    std::int64_t seen = window_max_ns.load(std::memory_order_relaxed);
    while (ns > seen && !window_max_ns.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
    }
  }
};

class QueryMetrics {
 public:
  /// `durations`: record nexdb_query_duration_seconds; `errors`: the error counters.
  QueryMetrics(metrics::Registry& registry, std::vector<double> buckets,
               std::size_t max_fingerprints, bool durations, bool errors);
  /// This process's 40P01 errors on a host so far.
  double client_deadlocks(std::string_view cluster, std::string_view host) {
    return client_deadlocks_.with({cluster, host}).value();
  }

  /// `cluster_seed`: cluster_seed(cluster), computed once by the caller.
  void record(std::string_view cluster, std::uint64_t cluster_seed,
              const StatementEvent& event) noexcept;
  static std::uint64_t cluster_seed(std::string_view cluster) noexcept;
  /// The shape of `sql`; "other" once max_fingerprints distinct shapes are known.
  Shape shape_of(Dialect dialect, std::string_view sql, bool by_name);
  /// The series for a shape (created on first use).
  QuerySeries& series(std::string_view cluster, std::string_view host, const Shape& shape);
  /// Every series with its slowest statement since the last call in ms (0 if none), resetting it.
  std::vector<std::pair<QuerySeries*, double>> take_windows();
  std::vector<QuerySeries*> all_series() const;

 private:
  struct Key {
    std::string cluster, host, sql;
    bool by_name = false;
  };
  struct KeyView {
    std::string_view cluster, host, sql;
    bool by_name = false;
  };
  // Keys carry the hash computed once per statement (cluster seed, host, text).
  struct HashedKey {
    Key key;
    std::uint64_t hash = 0;
  };
  struct HashedView {
    KeyView key;
    std::uint64_t hash = 0;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const HashedView& k) const noexcept { return k.hash; }
    std::size_t operator()(const HashedKey& k) const noexcept { return k.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return a.hash == b.hash && same(view(a.key), view(b.key));
    }
  };
  static bool same(const KeyView& a, const KeyView& b) noexcept {
    return a.sql == b.sql && a.host == b.host && a.cluster == b.cluster && a.by_name == b.by_name;
  }
  static KeyView view(const Key& k) noexcept { return {k.cluster, k.host, k.sql, k.by_name}; }
  static KeyView view(const KeyView& k) noexcept { return k; }
  struct Shard {
    std::mutex mutex;
    std::unordered_map<HashedKey, QuerySeries*, KeyHash, KeyEqual> texts;
  };
  static constexpr std::size_t shard_count = 16;
  static constexpr std::size_t texts_per_shard = 1024;

  QuerySeries& lookup(const KeyView& key, std::uint64_t hash, Dialect dialect);
  QuerySeries& lookup_shared(const KeyView& key, std::uint64_t hash, Dialect dialect);
  void count_error(std::string_view cluster, std::string_view host, std::string_view sqlstate);

  metrics::Family<metrics::Histogram>& durations_;
  metrics::Family<metrics::Gauge>& max_durations_;
  metrics::Family<metrics::Gauge>& shapes_gauge_;
  metrics::Family<metrics::Counter>& errors_;
  metrics::Family<metrics::Counter>& client_deadlocks_;
  metrics::Counter& overflow_;
  std::size_t max_fingerprints_;
  /// Tells this instance's entries in the per-thread caches from those of earlier instances
  /// (never reused, so an entry of a destroyed instance can never match).
  std::uint64_t instance_;
  bool durations_on_;
  bool errors_on_;
  std::array<Shard, shard_count> shards_;

  mutable std::mutex series_mutex_;  // shapes_ and series_
  std::map<std::string, Shape, std::less<>> shapes_;
  std::deque<QuerySeries> series_;
  std::map<std::string, QuerySeries*, std::less<>> series_index_;
};

/// The observer attached to one watched target; records into the monitor's QueryMetrics.
class QueryObserver final : public StatementObserver {
 public:
  QueryObserver(std::shared_ptr<QueryMetrics> metrics, std::string cluster)
      : metrics_(std::move(metrics)),
        cluster_(std::move(cluster)),
        seed_(QueryMetrics::cluster_seed(cluster_)) {}
  void on_statement(const StatementEvent& event) noexcept override {
    // A hub asks only whether anyone listens, so the monitor's own statements arrive here too.
    if (!InternalScope::active()) metrics_->record(cluster_, seed_, event);
  }
  bool wants_statements() const noexcept override { return !InternalScope::active(); }

 private:
  std::shared_ptr<QueryMetrics> metrics_;
  std::string cluster_;
  std::uint64_t seed_;
};

}  // namespace nexdb::monitor_detail
