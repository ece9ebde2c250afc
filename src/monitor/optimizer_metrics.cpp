#include "monitor/optimizer_metrics.hpp"

#include <map>

#include "nexdb/sql_text.hpp"

namespace nexdb::monitor_detail {
namespace {

constexpr std::size_t max_query_text = 300;  // as nexdb_query_shape: readable, bounded

std::string query_label(const std::string& sql) {
  std::string text = sql::normalize_any(sql);  // constants out: a label never carries values
  if (text.size() > max_query_text) {
    text.resize(max_query_text - 3);
    text += "...";
  }
  return text;
}

}  // namespace

OptimizerMetrics::OptimizerMetrics(metrics::Registry& registry, QueryOptimizer optimizer,
                                   std::string cluster, std::size_t max_findings)
    : registry_(registry),
      optimizer_(std::move(optimizer)),
      cluster_(std::move(cluster)),
      max_findings_(max_findings),
      counters_(registry.counter("nexdb_optimizer_events_total",
                                 "QueryOptimizer events: queries run, plan checks (and failed "
                                 "ones), result cache hits, misses, evictions, invalidations",
                                 {"cluster", "event"})),
      gauges_(registry.gauge("nexdb_optimizer_state",
                             "QueryOptimizer state: shapes tracked, result cache entries and bytes",
                             {"cluster", "item"})),
      findings_by_kind_(registry.gauge(
          "nexdb_optimizer_plan_findings",
          "Current plan findings of the optimizer's query shapes, by kind (sequential_scan, "
          "sort_without_index, nested_loop)",
          {"cluster", "kind"})),
      findings_(registry.gauge(
          "nexdb_optimizer_plan_finding_rows",
          "One series per plan finding of a query shape: the rows concerned (table rows for a "
          "sequential scan, rows sorted, outer x inner rows of a nested loop)",
          {"cluster", "fingerprint", "kind", "table", "query"})) {
  hook_ = registry_.add_collect_hook([this] { collect(); });
}

OptimizerMetrics::~OptimizerMetrics() {
  registry_.remove_collect_hook(hook_);
  for (const auto& [fingerprint, kind, table, query] : exported_)
    findings_.remove({cluster_, fingerprint, kind, table, query});
}

void OptimizerMetrics::collect() {
  const OptimizerStats s = optimizer_.stats();
  const auto total = [&](std::string_view event, std::uint64_t value) {
    counters_.with({cluster_, event}).set_total(static_cast<double>(value));
  };
  total("query", s.queries);
  total("untracked_query", s.untracked);
  total("plan_check", s.plan_checks);
  total("plan_check_error", s.plan_check_errors);
  total("cache_hit", s.cache_hits);
  total("cache_miss", s.cache_misses);
  total("cache_eviction", s.cache_evictions);
  total("cache_invalidation", s.cache_invalidations);
  gauges_.with({cluster_, "shapes"}).set(static_cast<double>(s.shapes));
  gauges_.with({cluster_, "cache_entries"}).set(static_cast<double>(s.cache_entries));
  gauges_.with({cluster_, "cache_bytes"}).set(static_cast<double>(s.cache_bytes));

  std::map<std::string, double> by_kind{
      {"sequential_scan", 0}, {"sort_without_index", 0}, {"nested_loop", 0}};
  std::set<FindingKey> now;
  std::map<FindingKey, double> rows;
  for (const ShapeReport& shape : optimizer_.shapes()) {  // most total time first
    for (const PlanFinding& f : shape.findings) {
      by_kind[std::string(to_string(f.kind))] += 1;
      if (now.size() >= max_findings_) continue;
      FindingKey key{shape.fingerprint, std::string(to_string(f.kind)), f.table,
                     query_label(shape.sql)};
      now.insert(key);
      rows[key] = std::max(rows[key], f.rows);
    }
  }
  for (const auto& [kind, count] : by_kind) findings_by_kind_.with({cluster_, kind}).set(count);
  // Findings that are gone (an index was created, the plan changed) lose their series.
  for (const FindingKey& old : exported_) {
    if (now.count(old) != 0) continue;
    const auto& [fingerprint, kind, table, query] = old;
    findings_.remove({cluster_, fingerprint, kind, table, query});
  }
  for (const auto& [key, value] : rows) {
    const auto& [fingerprint, kind, table, query] = key;
    findings_.with({cluster_, fingerprint, kind, table, query}).set(value);
  }
  exported_ = std::move(now);
}

}  // namespace nexdb::monitor_detail
