// One series of a family: its label values, their pre-rendered exposition text and the
// instrument. Label text is rendered once, at creation, so a scrape only appends strings.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/metrics.hpp"

namespace nexdb::metrics::detail {

struct Series {
  std::vector<std::string> values;
  std::string label_text;  // name="value",... escaped; empty without labels
  Counter counter;
  Gauge gauge;
  std::unique_ptr<Histogram> histogram;
};

/// Appends `value` escaped as a label value (backslash, double quote, newline).
void append_label_value(std::string& out, std::string_view value);
/// name1="value1",name2="value2"
std::string render_labels(const std::vector<std::string>& names,
                          std::span<const std::string_view> values);
/// The key that identifies a series within its family.
std::string series_key(std::span<const std::string_view> values);

}  // namespace nexdb::metrics::detail
