// The demo's optimizer step: get_user_orders runs through the QueryOptimizer, which finds the
// full scan of orders, suggests orders(user_id, created_at) (verified by the planner), and the
// IndexManager creates it; then the plan and the timing after.
#include <fmt/format.h>

#include <chrono>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "optimizer_output.hpp"

namespace nexdb::cli {
namespace {

using namespace std::chrono;

constexpr std::int64_t kCalls = 100;

/// Mean time of get_user_orders over kCalls users, through the optimizer.
double mean_us(QueryOptimizer& optimizer, const DemoOptions& options) {
  auto user_orders =
      optimizer.optimize([](std::int64_t user_id) { return get_user_orders(user_id); });
  const auto start = steady_clock::now();
  for (std::int64_t i = 0; i < kCalls; ++i) {
    (void)user_orders(i % static_cast<std::int64_t>(options.users) + 1);
  }
  return static_cast<double>(duration_cast<microseconds>(steady_clock::now() - start).count()) /
         kCalls;
}

std::string plan_lines(const Plan& plan) {
  std::string text = indented(plan.to_text(), "      ");
  if (!text.empty()) text.pop_back();  // line() ends the line
  return text;
}

const ShapeReport& seed_shape(const std::vector<ShapeReport>& shapes) {
  for (const ShapeReport& s : shapes) {
    if (s.sql.find("JOIN") != std::string::npos) return s;
  }
  return shapes.front();
}

}  // namespace

void demo_optimizer(DemoContext& demo) {
  demo.heading("The optimizer finds a missing index, verifies it and creates it");
  {
    Lease lease = demo.db.connection();  // fresh statistics, as autovacuum would keep them
    lease->execute_script("ANALYZE users");
    lease->execute_script("ANALYZE orders");
  }
  QueryOptimizer optimizer{demo.db, {.plan_check_after_calls = 50}};
  const double before_us = mean_us(optimizer, demo.options);
  const ShapeReport before = seed_shape(optimizer.shapes());
  demo.line(
      fmt::format("    get_user_orders for {} users through optimizer.run(): {:.0f} us per call; "
                  "its plan, checked after 50 calls:",
                  kCalls, before_us));
  if (before.plan) demo.line(plan_lines(*before.plan));
  for (const PlanFinding& f : before.findings)
    demo.line("    " + demo.term.red("finding: ") + f.message);

  const auto suggestions = optimizer.suggest_indexes();
  Json report{{"mean_us_before", before_us}, {"findings_before", findings_json(before.findings)}};
  report["suggestions"] = Json::array();
  for (const IndexSuggestion& s : suggestions) report["suggestions"].push_back(suggestion_json(s));
  if (suggestions.empty()) {
    demo.line("    no index would cut its cost by half (try more --orders)");
    demo.report["optimizer"] = report;
    return;
  }
  const IndexSuggestion& best = suggestions.front();
  demo.line(fmt::format("    {} {}", demo.term.green("suggested:"), suggestion_line(best)));
  const auto changes = IndexManager(demo.db).create_index(best.definition);
  demo.line(fmt::format("    {} {}",
                        demo.term.green(std::string(to_string(changes.front().action))),
                        changes.front().sql));

  const double after_us = mean_us(optimizer, demo.options);
  const ShapeReport after = seed_shape(optimizer.shapes());
  demo.line("    the plan now (checked again after the schema change):");
  if (after.plan) demo.line(plan_lines(*after.plan));
  demo.line(fmt::format("    {:.0f} us per call, {:.1f}x faster; findings left: {}", after_us,
                        after_us > 0 ? before_us / after_us : 0.0, after.findings.size()));
  report["created"] = changes.front().sql;
  report["mean_us_after"] = after_us;
  report["findings_after"] = findings_json(after.findings);
  if (after.plan) report["plan_after"] = after.plan->to_text();
  demo.report["optimizer"] = report;
}

}  // namespace nexdb::cli
