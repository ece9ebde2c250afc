// Registry and families: creating, finding and dropping series.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "metrics/series.hpp"
#include "nexdb/error.hpp"

namespace nexdb::metrics {

namespace detail {

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

std::string render_labels(const std::vector<std::string>& names,
                          std::span<const std::string_view> values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out += '"';
  }
  return out;
}

std::string series_key(std::span<const std::string_view> values) {
  std::string key;
  for (std::string_view v : values) {
    key.append(v);
    key += '\xff';  // never valid UTF-8, so no value can fake a boundary
  }
  return key;
}

}  // namespace detail

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> labels,
                       std::shared_ptr<const std::vector<double>> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(labels)),
      bounds_(std::move(bounds)) {}

FamilyBase::~FamilyBase() = default;

std::size_t FamilyBase::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

void* FamilyBase::find_or_create(std::span<const std::string_view> values) {
  if (values.size() != label_names_.size()) {
    throw UsageError(fmt::format("metric {}: {} label values given for {} labels ({})", name_,
                                 values.size(), label_names_.size(),
                                 fmt::join(label_names_, ", ")));
  }
  std::string key = detail::series_key(values);
  std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it == series_.end()) {
    auto series = std::make_unique<detail::Series>();
    series->values.assign(values.begin(), values.end());
    series->label_text = detail::render_labels(label_names_, values);
    if (type_ == MetricType::histogram) series->histogram = std::make_unique<Histogram>(bounds_);
    order_.push_back(series.get());
    it = series_.emplace(std::move(key), std::move(series)).first;
  }
  detail::Series& s = *it->second;
  switch (type_) {
    case MetricType::counter:
      return &s.counter;
    case MetricType::gauge:
      return &s.gauge;
    case MetricType::histogram:
      return s.histogram.get();
  }
  return nullptr;
}

bool FamilyBase::remove(std::span<const std::string_view> values) {
  const std::string key = detail::series_key(values);
  std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it == series_.end()) return false;
  order_.erase(std::find(order_.begin(), order_.end(), it->second.get()));
  series_.erase(it);
  return true;
}

void FamilyBase::clear() {
  std::lock_guard lock(mutex_);
  order_.clear();
  series_.clear();
}

namespace {

void check_labels(std::string_view name, MetricType type, const std::vector<std::string>& labels) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (auto problem = check_label_name(labels[i])) {
      throw UsageError(fmt::format("metric {}: {}", name, *problem));
    }
    if (type == MetricType::histogram && labels[i] == "le") {
      throw UsageError(fmt::format("metric {}: a histogram cannot have a label 'le'", name));
    }
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), labels[i]) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw UsageError(fmt::format("metric {}: label '{}' given twice", name, labels[i]));
    }
  }
}

void check_buckets(std::string_view name, const std::vector<double>& buckets) {
  if (buckets.empty()) {
    throw UsageError(fmt::format("histogram {}: needs at least one bucket bound", name));
  }
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      throw UsageError(
          fmt::format("histogram {}: bucket bounds must be finite and strictly increasing, got {}",
                      name, fmt::join(buckets, ", ")));
    }
  }
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

Registry& Registry::global() {
  // Never destroyed: background exporters may still scrape it during static destruction.
  static Registry* const instance = new Registry();
  return *instance;
}

FamilyBase& Registry::family(std::string_view name, std::string_view help, MetricType type,
                             std::vector<std::string> labels, std::vector<double> buckets) {
  if (auto problem = check_metric_name(name)) throw UsageError(*problem);
  check_labels(name, type, labels);
  if (type == MetricType::histogram) check_buckets(name, buckets);
  std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() != name) continue;
    const bool same = existing->type() == type && existing->label_names() == labels &&
                      (type != MetricType::histogram || *existing->bounds_ == buckets);
    if (!same) {
      throw UsageError(fmt::format(
          "metric {} is already registered as a {} with labels ({}); a metric name has one "
          "type and one label set",
          name, to_string(existing->type()), fmt::join(existing->label_names(), ", ")));
    }
    return *existing;
  }
  auto bounds = type == MetricType::histogram
                    ? std::make_shared<const std::vector<double>>(std::move(buckets))
                    : nullptr;
  FamilyBase* created = nullptr;
  switch (type) {
    case MetricType::counter:
      created = new Family<Counter>(std::string(name), std::string(help), type, std::move(labels),
                                    bounds);
      break;
    case MetricType::gauge:
      created =
          new Family<Gauge>(std::string(name), std::string(help), type, std::move(labels), bounds);
      break;
    case MetricType::histogram:
      created = new Family<Histogram>(std::string(name), std::string(help), type, std::move(labels),
                                      bounds);
      break;
  }
  families_.emplace_back(created);
  return *created;
}

Family<Counter>& Registry::counter(std::string_view name, std::string_view help,
                                   std::vector<std::string> labels) {
  return static_cast<Family<Counter>&>(
      family(name, help, MetricType::counter, std::move(labels), {}));
}

Family<Gauge>& Registry::gauge(std::string_view name, std::string_view help,
                               std::vector<std::string> labels) {
  return static_cast<Family<Gauge>&>(family(name, help, MetricType::gauge, std::move(labels), {}));
}

Family<Histogram>& Registry::histogram(std::string_view name, std::string_view help,
                                       std::vector<std::string> labels,
                                       std::vector<double> buckets) {
  return static_cast<Family<Histogram>&>(
      family(name, help, MetricType::histogram, std::move(labels), std::move(buckets)));
}

std::uint64_t Registry::add_collect_hook(std::function<void()> hook) {
  std::lock_guard lock(hooks_mutex_);
  const std::uint64_t id = next_hook_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void Registry::remove_collect_hook(std::uint64_t id) {
  std::lock_guard lock(hooks_mutex_);
  hooks_.erase(id);
}

void Registry::run_collect_hooks() const {
  std::lock_guard lock(hooks_mutex_);
  for (const auto& [id, hook] : hooks_) {
    try {
      hook();
    } catch (...) {  // a failing hook must not fail the scrape; its metrics just stay stale
    }
  }
}

std::size_t Registry::series_count() const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& family : families_) total += family->size();
  return total;
}

}  // namespace nexdb::metrics
