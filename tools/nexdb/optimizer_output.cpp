#include "optimizer_output.hpp"

#include <fmt/format.h>

#include <charconv>

namespace nexdb::cli {

OrderedJson plan_json(const Plan& plan) {
  OrderedJson out{{"dialect", to_string(plan.dialect)}, {"text", plan.to_text()}};
  if (plan.dialect == Dialect::postgres) {
    out["total_cost"] = plan.total_cost();
    out["explain"] = OrderedJson::parse(plan.raw);
  }
  return out;
}

OrderedJson findings_json(const std::vector<PlanFinding>& findings) {
  OrderedJson out = OrderedJson::array();
  for (const PlanFinding& f : findings) {
    out.push_back({{"kind", to_string(f.kind)},
                   {"table", f.table},
                   {"rows", f.rows},
                   {"message", f.message}});
  }
  return out;
}

OrderedJson suggestion_json(const IndexSuggestion& s) {
  OrderedJson queries = OrderedJson::array();
  for (const HelpedQuery& q : s.queries) {
    queries.push_back({{"sql", q.sql},
                       {"fingerprint", q.fingerprint},
                       {"calls", q.calls},
                       {"cost_before", q.cost_before},
                       {"cost_after", q.cost_after}});
  }
  return {{"table", s.table},           {"columns", s.columns},     {"cost_before", s.cost_before},
          {"cost_after", s.cost_after}, {"cost_unit", s.cost_unit}, {"reduction", s.reduction()},
          {"create_sql", s.create_sql}, {"queries", queries}};
}

std::string suggestion_line(const IndexSuggestion& s) {
  const bool whole = s.cost_unit.find("steps") != std::string::npos;
  return fmt::format(
      "{} ({}): {} {} -> {} ({:.1f}% less), {} quer{}", s.table, fmt::join(s.columns, ", "),
      s.cost_unit,
      whole ? fmt::format("{:.0f}", s.cost_before) : fmt::format("{:.2f}", s.cost_before),
      whole ? fmt::format("{:.0f}", s.cost_after) : fmt::format("{:.2f}", s.cost_after),
      s.reduction() * 100, s.queries.size(), s.queries.size() == 1 ? "y" : "ies");
}

std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += indent + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::vector<Value> parse_params(const std::vector<std::string>& texts) {
  std::vector<Value> values;
  for (const std::string& text : texts) {
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
      values.emplace_back(number);
    } else {
      values.emplace_back(text);
    }
  }
  return values;
}

}  // namespace nexdb::cli
