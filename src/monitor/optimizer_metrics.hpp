// The optimizer's counters and plan findings as metrics: copied from QueryOptimizer::stats() and
// shapes() at every scrape (a collect hook), so the optimizer's hot path never sees Prometheus.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include "nexdb/metrics.hpp"
#include "nexdb/optimizer.hpp"

namespace nexdb::monitor_detail {

class OptimizerMetrics {
 public:
  /// Registers the families and the hook; at most `max_findings` finding series per optimizer.
  OptimizerMetrics(metrics::Registry& registry, QueryOptimizer optimizer, std::string cluster,
                   std::size_t max_findings);
  ~OptimizerMetrics();
  OptimizerMetrics(const OptimizerMetrics&) = delete;
  OptimizerMetrics& operator=(const OptimizerMetrics&) = delete;

  /// Copies the optimizer's state into the metrics (what the hook runs).
  void collect();
  const std::string& cluster() const noexcept { return cluster_; }

 private:
  using FindingKey = std::tuple<std::string, std::string, std::string, std::string>;

  metrics::Registry& registry_;
  QueryOptimizer optimizer_;
  std::string cluster_;
  std::size_t max_findings_;
  metrics::Family<metrics::Counter>& counters_;
  metrics::Family<metrics::Gauge>& gauges_;
  metrics::Family<metrics::Gauge>& findings_by_kind_;
  metrics::Family<metrics::Gauge>& findings_;
  std::set<FindingKey> exported_;  // (fingerprint, kind, table, query) series of this optimizer
  std::uint64_t hook_ = 0;
};

}  // namespace nexdb::monitor_detail
