// The alert state machine. Per rule and series:
//   inactive --breach--> pending --breach for `for`--> firing --recovered for recover_for-->
//   resolved
// A pending alert whose value recovers before `for` is dropped without a notification.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "monitor/rules.hpp"

namespace nexdb {

std::string_view to_string(AlertState state) noexcept {
  switch (state) {
    case AlertState::pending:
      return "pending";
    case AlertState::firing:
      return "firing";
    case AlertState::resolved:
      return "resolved";
  }
  return "pending";
}

namespace monitor_detail {
namespace {

std::string instance_key(std::size_t rule, const metrics::Labels& labels) {
  std::string key = std::to_string(rule);
  for (const auto& [name, value] : labels) {
    key += '\xff';
    key += name;
    key += '=';
    key += value;
  }
  return key;
}

bool breaches(const AlertRule& rule, double value) {
  return lower_is_worse(rule.metric) ? value < rule.threshold : value > rule.threshold;
}

bool recovered(const AlertRule& rule, double value) {
  const double line = rule.recover_at.value_or(rule.threshold);
  return lower_is_worse(rule.metric) ? value >= line : value <= line;
}

std::string where_of(const Observation& o) {
  const auto label = [&](std::string_view name) {
    auto it = o.labels.find(name);
    return it == o.labels.end() ? std::string() : it->second;
  };
  std::string where = label("cluster");
  if (auto host = label("host"); !host.empty()) where += " " + host;
  return where;
}

std::string summary_of(const AlertRule& rule, const Observation& o) {
  const RuleSpec& spec = rule_spec(rule.metric);
  return fmt::format("{} {} {} {} on {}", spec.what, format_value(o.value, spec.unit),
                     lower_is_worse(rule.metric) ? "<" : ">",
                     format_value(rule.threshold, spec.unit), where_of(o));
}

std::string resolved_summary(const AlertRule& rule, const Observation& o) {
  const RuleSpec& spec = rule_spec(rule.metric);
  return fmt::format("{} back to {} (threshold {}) on {}", spec.what,
                     format_value(o.value, spec.unit), format_value(rule.threshold, spec.unit),
                     where_of(o));
}

}  // namespace

AlertEngine::AlertEngine(std::vector<AlertRule> rules, metrics::Labels constant_labels)
    : rules_(std::move(rules)), constant_labels_(std::move(constant_labels)) {}

Alert AlertEngine::make_alert(std::size_t index, const Observation& o,
                              Clock::time_point now) const {
  const AlertRule& rule = rules_[index];
  Alert alert{.name = rule.name,
              .metric = rule.metric,
              .severity = rule.severity,
              .labels = constant_labels_,
              .threshold = rule.threshold,
              .active_at = now};
  for (const auto& [name, value] : o.labels) alert.labels[name] = value;
  alert.labels["alertname"] = rule.name;
  alert.labels["severity"] = std::string(to_string(rule.severity));
  return alert;
}

void AlertEngine::step(std::size_t index, const Observation& o, Clock::time_point now,
                       std::vector<Alert>& changes) {
  const AlertRule& rule = rules_[index];
  const std::string key = instance_key(index, o.labels);
  auto it = instances_.find(key);
  if (it == instances_.end()) {
    if (!breaches(rule, o.value)) return;
    it = instances_.emplace(key, Instance{.alert = make_alert(index, o, now)}).first;
  }
  Instance& instance = it->second;
  Alert& alert = instance.alert;
  if (alert.state == AlertState::pending) {
    if (!breaches(rule, o.value)) {
      instances_.erase(it);  // recovered before `for`: never fired, nothing to tell
      return;
    }
    alert.value = o.value;
    alert.summary = summary_of(rule, o);
    alert.description = o.description;
    if (now - alert.active_at >= rule.for_duration) {
      alert.state = AlertState::firing;
      alert.fired_at = now;
      changes.push_back(alert);
    }
    return;
  }
  if (!recovered(rule, o.value)) {
    instance.recovering = false;
    alert.value = o.value;
    alert.summary = summary_of(rule, o);
    if (!o.description.empty()) alert.description = o.description;
    return;
  }
  if (!instance.recovering) {
    instance.recovering = true;
    instance.recovering_since = now;
  }
  if (now - instance.recovering_since >= rule.recover_for) {
    alert.state = AlertState::resolved;
    alert.resolved_at = now;
    alert.value = o.value;
    alert.summary = resolved_summary(rule, o);
    changes.push_back(alert);
    instances_.erase(it);
  }
}

std::vector<Alert> AlertEngine::evaluate(const std::vector<Observation>& observations,
                                         Clock::time_point now) {
  std::vector<Alert> changes;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    for (const Observation& o : observations) {
      if (o.metric == rules_[i].metric && !std::isnan(o.value)) step(i, o, now, changes);
    }
  }
  return changes;
}

std::vector<Alert> AlertEngine::active() const {
  std::vector<Alert> out;
  for (const auto& [key, instance] : instances_) out.push_back(instance.alert);
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return a.active_at < b.active_at; });
  return out;
}

std::vector<Alert> AlertEngine::firing() const {
  std::vector<Alert> out = active();
  std::erase_if(out, [](const Alert& a) { return a.state != AlertState::firing; });
  return out;
}

}  // namespace monitor_detail
}  // namespace nexdb
