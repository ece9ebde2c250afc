// The Prometheus text format 0.0.4 and OpenMetrics 1.0:
//   # HELP name text
//   # TYPE name counter
//   name{constant="x",label="y"} 42
// OpenMetrics names a counter family without its `_total` suffix (its samples always carry it,
// so a counter registered without `_total` gains it there), writes integral `le` bounds as
// canonical floats ("1.0") and ends with `# EOF`.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "metrics/series.hpp"

namespace nexdb::metrics {

std::string_view content_type(ExpositionFormat format) noexcept {
  return format == ExpositionFormat::openmetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

ExpositionFormat negotiate(std::string_view accept) noexcept {
  return accept.find("application/openmetrics-text") != std::string_view::npos
             ? ExpositionFormat::openmetrics
             : ExpositionFormat::prometheus;
}

class Exposition {
 public:
  Exposition(std::string& out, ExpositionFormat format, const Labels& constant)
      : out_(out), format_(format), constant_(constant) {}

  void family(const FamilyBase& family) {
    const std::string constant = constant_text(family);
    std::lock_guard lock(family.mutex_);
    if (family.order_.empty()) return;
    header(family);
    const std::string_view counter_suffix =
        format_ == ExpositionFormat::openmetrics && !family.name().ends_with("_total") ? "_total"
                                                                                       : "";
    for (const detail::Series* series : family.order_) {
      const std::string_view labels = series->label_text;
      switch (family.type()) {
        case MetricType::counter:
          sample(family.name(), counter_suffix, constant, labels, series->counter.value());
          break;
        case MetricType::gauge:
          sample(family.name(), "", constant, labels, series->gauge.value());
          break;
        case MetricType::histogram:
          histogram(family.name(), constant, labels, *series->histogram);
          break;
      }
    }
  }

  void finish() {
    if (format_ == ExpositionFormat::openmetrics) out_ += "# EOF\n";
  }

 private:
  // Constant labels the family does not define itself (its own label of that name wins).
  std::string constant_text(const FamilyBase& family) const {
    std::string text;
    for (const auto& [name, value] : constant_) {
      const auto& own = family.label_names();
      if (std::find(own.begin(), own.end(), name) != own.end()) continue;
      if (!text.empty()) text += ',';
      text += name;
      text += "=\"";
      detail::append_label_value(text, value);
      text += '"';
    }
    return text;
  }

  void header(const FamilyBase& family) {
    std::string_view name = family.name();
    if (format_ == ExpositionFormat::openmetrics && family.type() == MetricType::counter &&
        name.ends_with("_total")) {
      name.remove_suffix(6);
    }
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : family.help()) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (c == '"' && format_ == ExpositionFormat::openmetrics) {
        out_ += "\\\"";
      } else {
        out_ += c;
      }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += to_string(family.type());
    out_ += '\n';
  }

  void histogram(std::string_view name, std::string_view constant, std::string_view labels,
                 const Histogram& h) {
    const auto& bounds = *h.bounds_;
    std::uint64_t running = 0;
    std::string le;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      running += h.counts_[i].load(std::memory_order_relaxed);
      le.assign("le=\"");
      if (i < bounds.size()) {
        append_number(le, bounds[i]);
        if (format_ == ExpositionFormat::openmetrics && bounds[i] == std::trunc(bounds[i]) &&
            le.find_first_of(".e", 4) == std::string::npos) {
          le += ".0";
        }
      } else {
        le += "+Inf";
      }
      le += '"';
      sample(name, "_bucket", constant, labels, static_cast<double>(running), le);
    }
    sample(name, "_sum", constant, labels, h.sum_.load(std::memory_order_relaxed));
    sample(name, "_count", constant, labels, static_cast<double>(running));
  }

  void sample(std::string_view name, std::string_view suffix, std::string_view constant,
              std::string_view labels, double value, std::string_view extra = {}) {
    out_ += name;
    out_ += suffix;
    if (!constant.empty() || !labels.empty() || !extra.empty()) {
      out_ += '{';
      bool comma = false;
      for (std::string_view part : {constant, labels, extra}) {
        if (part.empty()) continue;
        if (comma) out_ += ',';
        out_ += part;
        comma = true;
      }
      out_ += '}';
    }
    out_ += ' ';
    append_number(out_, value);
    out_ += '\n';
  }

 public:
  static void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
      out += "NaN";
    } else if (std::isinf(value)) {
      out += value > 0 ? "+Inf" : "-Inf";
    } else if (value == std::trunc(value) && std::fabs(value) < 9.007199254740992e15) {
      fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(value));
    } else {
      fmt::format_to(std::back_inserter(out), "{}", value);  // shortest round-trip form
    }
  }

 private:
  std::string& out_;
  ExpositionFormat format_;
  const Labels& constant_;
};

void Registry::expose_to(std::string& out, ExpositionFormat format, const Labels& constant) const {
  run_collect_hooks();
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& family : families_) families.push_back(family.get());
  }
  Exposition exposition(out, format, constant);
  for (const FamilyBase* family : families) exposition.family(*family);
  exposition.finish();
}

std::string Registry::expose(ExpositionFormat format, const Labels& constant) const {
  std::string out;
  expose_to(out, format, constant);
  return out;
}

}  // namespace nexdb::metrics
