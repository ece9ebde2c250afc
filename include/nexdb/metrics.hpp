// Prometheus metrics: a registry of counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4 or OpenMetrics 1.0, served over HTTP and/or pushed to a
// Pushgateway by a MetricsCollector. The only module that knows Prometheus; lower layers keep
// plain stats structs (PoolStats, HostStats) that DBMonitor turns into metrics.
//
// Hot path: Counter::inc, Gauge::set and Histogram::observe are lock-free atomics. Looking a
// series up by label values (Family::with) takes the family's mutex, so keep the reference:
//
//   auto& requests = registry.counter("app_requests_total", "Requests served", {"route"});
//   metrics::Counter& home = requests.with({"/"});   // once
//   home.inc();                                        // per request
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nexdb {
namespace metrics {

/// Label name -> value.
using Labels = std::map<std::string, std::string, std::less<>>;

enum class MetricType { counter, gauge, histogram };
std::string_view to_string(MetricType type) noexcept;

/// A value that only goes up (restarts at 0 with the process).
class Counter {
 public:
  /// Adds `by`; negative amounts are ignored (a counter never decreases).
  void inc(double by = 1.0) noexcept {
    if (by > 0) value_.fetch_add(by, std::memory_order_relaxed);
  }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }
  /// Mirrors a total counted elsewhere (PoolStats::acquired, pg_stat_database.deadlocks).
  void set_total(double total) noexcept { value_.store(total, std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// A value that goes up and down.
class Gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void inc(double by = 1.0) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) noexcept { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Counts observations into buckets by upper bound (Prometheus `le`), plus their sum.
class Histogram {
 public:
  /// `bounds`: strictly increasing finite upper bounds; +Inf is implicit.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void observe(double value) noexcept;

  struct Snapshot {
    std::vector<double> bounds;             // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count() const noexcept { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot snapshot() const;
  /// Replaces the contents with counts kept elsewhere (PoolStats::acquire_wait): one count per
  /// bucket, not cumulative, the last for +Inf.
  void set_counts(std::span<const std::uint64_t> per_bucket, double sum) noexcept;
  const std::vector<double>& bounds() const noexcept { return *bounds_; }

 private:
  friend class Exposition;
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_->size() + 1
  std::atomic<double> sum_{0};
};

/// Prometheus' client default buckets, in seconds.
const std::vector<double>& default_buckets();
/// `count` bounds starting at `start`, each `factor` times the previous.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

namespace detail {
struct Series;
}

/// The metrics of one name: one series per combination of label values.
class FamilyBase {
 public:
  virtual ~FamilyBase();
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  MetricType type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  std::size_t size() const;
  /// Drops the series with these label values; references to it dangle. False if absent.
  bool remove(std::span<const std::string_view> label_values);
  bool remove(std::initializer_list<std::string_view> label_values) {
    return remove(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  /// Drops every series.
  void clear();

 protected:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> labels,
             std::shared_ptr<const std::vector<double>> bounds);
  void* find_or_create(std::span<const std::string_view> label_values);

 private:
  friend class Exposition;
  friend class Registry;
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::shared_ptr<const std::vector<double>> bounds_;  // histograms
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<detail::Series>> series_;
  std::vector<detail::Series*> order_;  // creation order, for stable exposition
};

template <class Metric>
class Family final : public FamilyBase {
 public:
  /// The series with these label values, in the order of label_names(); created on first
  /// use. UsageError when the number of values differs. The reference stays valid until
  /// remove()/clear() of that series or the registry's destruction.
  Metric& with(std::span<const std::string_view> label_values) {
    return *static_cast<Metric*>(find_or_create(label_values));
  }
  Metric& with(std::initializer_list<std::string_view> label_values) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  Metric& with(std::span<const std::string> label_values) {
    std::vector<std::string_view> views(label_values.begin(), label_values.end());
    return with(std::span<const std::string_view>(views));
  }

 private:
  friend class Registry;
  using FamilyBase::FamilyBase;
};

/// The text a scrape returns.
enum class ExpositionFormat {
  prometheus,   // text/plain; version=0.0.4
  openmetrics,  // application/openmetrics-text; version=1.0.0
};
/// The Content-Type header for `format`.
std::string_view content_type(ExpositionFormat format) noexcept;
/// OpenMetrics when the Accept header asks for it, else the Prometheus text format.
ExpositionFormat negotiate(std::string_view accept_header) noexcept;

/// Every metric family of a process (or of a part of it). Thread-safe.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The process-wide registry that MetricsCollector and DBMonitor use unless given another.
  static Registry& global();

  /// The family called `name`, created on first call. Registering the same name again with the
  /// same type, labels (and buckets) returns the existing family; anything else is a UsageError,
  /// as are invalid names (`[a-zA-Z_:][a-zA-Z0-9_:]*`; labels `[a-zA-Z_][a-zA-Z0-9_]*`, not
  /// `__*`, not `le` on histograms).
  Family<Counter>& counter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> buckets = default_buckets());

  /// `hook` runs at the start of every exposition (scrape or push): the place to copy stats
  /// structs into gauges. Returns an id for remove_collect_hook(), which waits for a running
  /// hook to finish.
  std::uint64_t add_collect_hook(std::function<void()> hook);
  void remove_collect_hook(std::uint64_t id);

  /// Runs the collect hooks, then renders every family; `constant_labels` are added to every
  /// series (a family's own label of the same name wins).
  std::string expose(ExpositionFormat format = ExpositionFormat::prometheus,
                     const Labels& constant_labels = {}) const;
  /// Like expose(), appending to `out` (reuse its capacity between scrapes).
  void expose_to(std::string& out, ExpositionFormat format,
                 const Labels& constant_labels = {}) const;
  /// Number of series (a histogram's series counts once).
  std::size_t series_count() const;

 private:
  FamilyBase& family(std::string_view name, std::string_view help, MetricType type,
                     std::vector<std::string> label_names, std::vector<double> buckets);
  void run_collect_hooks() const;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  mutable std::mutex hooks_mutex_;  // held while hooks run, so removal waits for them
  std::map<std::uint64_t, std::function<void()>> hooks_;
  std::uint64_t next_hook_ = 1;
};

/// Validation used by the registry and the configuration: nullopt when valid, else why not.
std::optional<std::string> check_metric_name(std::string_view name);
std::optional<std::string> check_label_name(std::string_view name);

}  // namespace metrics

/// What `/healthz` answers.
struct HealthReport {
  bool healthy = true;
  /// JSON body; empty: {"status":"ok"} or {"status":"unhealthy"}.
  std::string body{};
};

struct MetricsSettings {
  /// Only "prometheus" (the seed's `storage`): served at /metrics and/or pushed.
  std::string storage = "prometheus";
  /// With `pushgateway`: how often to push (0 = never). Scrapes always see fresh values.
  std::chrono::milliseconds export_interval{0};
  /// Constant labels on every series, e.g. {{"environment", "production"}, {"service", "api"}}.
  metrics::Labels labels{};
  /// host:port to serve /metrics and /healthz on ("" = do not serve; port 0 = any free port).
  /// Loopback by default: metrics reveal query shapes and host names.
  std::string listen = "127.0.0.1:9477";
  /// Pushgateway base URL, e.g. "http://pushgateway:9091" ("" = do not push).
  std::string pushgateway{};
  /// The Pushgateway grouping key: job name and extra labels (e.g. {{"instance", "api-1"}}).
  std::string job = "nexdb";
  metrics::Labels grouping{};
  /// The registry to export; null: metrics::Registry::global().
  metrics::Registry* registry = nullptr;
};

struct MetricsConfig;

/// Exports a registry: serves it over HTTP (cpp-httplib, its own thread) and/or pushes it to a
/// Pushgateway every export_interval. Destruction stops both.
class MetricsCollector {
 public:
  /// Starts serving/pushing. ConfigError for bad settings (unknown storage, bad label name,
  /// malformed listen address or URL); ConnectionError when the address cannot be bound.
  explicit MetricsCollector(MetricsSettings settings = {});
  /// Settings from nexdb.toml's [metrics] section.
  static MetricsSettings settings_from(const MetricsConfig& config);
  ~MetricsCollector();
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  metrics::Registry& registry() noexcept;
  const MetricsSettings& settings() const noexcept;
  /// What GET /metrics returns.
  std::string scrape(
      metrics::ExpositionFormat format = metrics::ExpositionFormat::prometheus) const;
  /// Pushes now (PUT, replacing the group). ConnectionError when the Pushgateway cannot be
  /// reached or refuses; UsageError without a pushgateway URL.
  void push();

  /// The port actually listened on (0 when not serving).
  int port() const noexcept;
  /// "http://127.0.0.1:9477" (empty when not serving).
  std::string url() const;

  /// What /healthz reports (default: healthy).
  void set_health_check(std::function<HealthReport()> check);
  /// Serves `render()` at GET `path` (e.g. a dashboard at "/"); when it throws, the page
  /// answers 503 with the exception's message.
  void add_page(std::string path, std::string content_type, std::function<std::string()> render);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nexdb
