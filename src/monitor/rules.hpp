// Alert rules: what each watched value means, the effective rule list of a MonitorSettings, and
// the state machine that turns observations into firing and resolved alerts.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/monitor.hpp"

namespace nexdb::monitor_detail {

/// What one known threshold watches, for messages and Prometheus rules.
struct RuleSpec {
  std::string_view metric{};     // the threshold's name
  std::string_view alertname{};  // default alert name
  std::string_view what{};       // "statement duration"
  std::string_view unit{};       // " ms", " bytes", ""
  /// The value as PromQL over our metrics ({w}: a window); compared with threshold * scale.
  std::string_view promql{};
  double scale = 1;
  /// Labels the PromQL result carries (to match ALERTS for hysteresis).
  std::string_view by{};
};

/// The spec of a known threshold ("query_duration" is accepted for query_duration_ms);
/// ConfigError naming the known ones otherwise.
const RuleSpec& rule_spec(std::string_view metric);
/// "query_duration" -> "query_duration_ms"; other names unchanged.
std::string canonical_metric(std::string_view metric);
bool lower_is_worse(std::string_view metric);

/// Threshold rules of the watched groups, then the explicit rules (which replace the threshold
/// rule of their metric). ConfigError for unknown names, unwatched groups, bad values.
std::vector<AlertRule> effective_rules(const MonitorSettings& settings);

/// One observed value of a rule's metric for one series.
struct Observation {
  std::string metric{};
  metrics::Labels labels{};  // cluster, host[, fingerprint]
  double value = 0;
  std::string description{};
};

/// Pending -> firing after `for`; firing -> resolved once past recover_at for recover_for. A
/// series without an observation in a round keeps its state (its host was not sampled).
class AlertEngine {
 public:
  using Clock = std::chrono::system_clock;
  AlertEngine(std::vector<AlertRule> rules, metrics::Labels constant_labels);

  /// Feeds one round of observations; returns the alerts that fired or resolved in it.
  std::vector<Alert> evaluate(const std::vector<Observation>& observations, Clock::time_point now);
  /// Pending and firing alerts, oldest first.
  std::vector<Alert> active() const;
  std::vector<Alert> firing() const;
  const std::vector<AlertRule>& rules() const noexcept { return rules_; }

 private:
  struct Instance {
    Alert alert;
    bool recovering = false;
    Clock::time_point recovering_since{};
  };
  void step(std::size_t rule, const Observation& observation, Clock::time_point now,
            std::vector<Alert>& changes);
  Alert make_alert(std::size_t rule, const Observation& observation, Clock::time_point now) const;

  std::vector<AlertRule> rules_;
  metrics::Labels constant_labels_;
  std::map<std::string, Instance> instances_;  // rule index + labels -> state
};

/// "1503 ms", "0.95", "20971520 bytes"
std::string format_value(double value, std::string_view unit);

}  // namespace nexdb::monitor_detail
