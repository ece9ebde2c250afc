// Histogram buckets and the name rules Prometheus imposes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/checks.hpp"
#include "nexdb/error.hpp"
#include "nexdb/metrics.hpp"

namespace nexdb::metrics {

std::string_view to_string(MetricType type) noexcept {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_->size() + 1)) {}

void Histogram::observe(double value) noexcept {
  const auto& bounds = *bounds_;
  // First bucket whose upper bound is >= value (Prometheus' `le`); NaN lands in +Inf.
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  if (!std::isnan(value)) sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot out;
  out.bounds = *bounds_;
  out.cumulative.resize(bounds_->size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative[i] = running;
  }
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

void Histogram::set_counts(std::span<const std::uint64_t> per_bucket, double sum) noexcept {
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    counts_[i].store(i < per_bucket.size() ? per_bucket[i] : 0, std::memory_order_relaxed);
  }
  sum_.store(sum, std::memory_order_relaxed);
}

const std::vector<double>& default_buckets() {
  static const std::vector<double> buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1.0,  2.5,   5.0,  10.0};
  return buckets;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1) || count == 0) {
    throw UsageError(
        fmt::format("exponential_buckets({}, {}, {}): needs start > 0, factor > 1 and count >= 1",
                    start, factor, count));
  }
  std::vector<double> out;
  for (double bound = start; out.size() < count; bound *= factor) out.push_back(bound);
  return out;
}

std::optional<std::string> check_metric_name(std::string_view name) {
  const auto allowed = [](char c, bool first) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    return letter || (!first && c >= '0' && c <= '9');
  };
  bool valid = !name.empty();
  for (std::size_t i = 0; valid && i < name.size(); ++i) valid = allowed(name[i], i == 0);
  if (valid) return std::nullopt;
  return fmt::format("'{}' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", name);
}

std::optional<std::string> check_label_name(std::string_view name) {
  return config_detail::check_label_name(name);
}

}  // namespace nexdb::metrics
