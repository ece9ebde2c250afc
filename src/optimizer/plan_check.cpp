// Plans as text, and what is wrong with them.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "nexdb/identifier.hpp"
#include "optimizer/plans.hpp"

namespace nexdb {
namespace {

using detail::group_thousands;

// psql's layout: each level 6 columns further in, "->  " before a child, details under its name.
void postgres_text(const PlanNode& node, int depth, std::string& out) {
  const std::string indent(depth > 0 ? static_cast<std::size_t>(depth - 1) * 6 + 2 : 0, ' ');
  std::string head = node.operation;
  if (!node.index.empty()) head += " using " + node.index;
  if (!node.relation.empty()) head += " on " + node.relation;
  out += fmt::format("{}{}{}  (cost={:.2f}..{:.2f} rows={})\n", indent, depth > 0 ? "->  " : "",
                     head, node.startup_cost, node.total_cost, group_thousands(node.rows));
  if (!node.detail.empty())
    out += fmt::format("{}{}{}\n", indent, depth > 0 ? "      " : "  ", node.detail);
  for (const PlanNode& child : node.children) postgres_text(child, depth + 1, out);
}

void sqlite_text(const PlanNode& node, const std::string& prefix, std::string& out) {
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    const bool last = i + 1 == node.children.size();
    out += prefix + (last ? "`--" : "|--") + node.children[i].detail + "\n";
    sqlite_text(node.children[i], prefix + (last ? "   " : "|  "), out);
  }
}

bool any_node(const PlanNode& node, const auto& predicate) {
  if (predicate(node)) return true;
  return std::any_of(node.children.begin(), node.children.end(),
                     [&](const PlanNode& child) { return any_node(child, predicate); });
}

/// Row counts of tables, looked up once per check.
class TableSizes {
 public:
  TableSizes(Connection& connection, double cap) : connection_(connection), cap_(cap) {}

  double of(const std::string& schema, const std::string& table) {
    const std::string key = schema + "." + table;
    auto it = sizes_.find(key);
    if (it != sizes_.end()) return it->second;
    double rows = 0;
    try {
      rows = lookup(schema, table);
    } catch (const std::exception&) {  // a view, a vanished table: no size, no finding
    }
    sizes_.emplace(key, rows);
    return rows;
  }

 private:
  double lookup(const std::string& schema, const std::string& table) {
    const std::string name =
        (schema.empty() ? "" : quote_identifier(schema) + ".") + quote_identifier(table);
    if (connection_.dialect() == Dialect::postgres) {
      // reltuples is -1 until the first VACUUM/ANALYZE; the statistics' live-tuple count fills in.
      const Rows rows = connection_.execute(
          "SELECT GREATEST(c.reltuples, COALESCE(s.n_live_tup, 0))::float8 FROM pg_class c "
          "LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = to_regclass($1)",
          name);
      return rows.empty() ? 0 : rows.scalar<double>();
    }
    // SQLite keeps no row count: count, but no further than the cap.
    return connection_
        .execute(fmt::format("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {})", name,
                             static_cast<long long>(cap_)))
        .scalar<double>();
  }

  Connection& connection_;
  double cap_;
  std::map<std::string, double> sizes_;
};

std::string table_phrase(const std::string& table, double rows, double cap) {
  return fmt::format("{} ({}{} rows)", table, rows >= cap ? "at least " : "",
                     group_thousands(rows));
}

class PostgresChecker {
 public:
  PostgresChecker(TableSizes& sizes, const PlanCheckSettings& settings)
      : sizes_(sizes), settings_(settings) {}

  void visit(const PlanNode& node) {
    if (node.operation == "Seq Scan" && !node.relation.empty()) {
      const double rows = sizes_.of(node.schema, node.relation);
      if (rows >= settings_.large_table_rows) {
        add(FindingKind::sequential_scan, node.relation, rows,
            fmt::format("sequential scan of {}", table_phrase(node.relation, rows, 1e300)));
      }
    } else if (node.operation == "Sort" && node.rows >= settings_.sort_rows) {
      add(FindingKind::sort_without_index, first_relation(node), node.rows,
          fmt::format("sorts about {} rows at run time ({})", group_thousands(node.rows),
                      node.detail));
    } else if (node.operation == "Nested Loop" && node.children.size() >= 2) {
      const double product = node.children[0].rows * node.children[1].rows;
      if (product >= settings_.nested_loop_rows) {
        const std::string inner = first_relation(node.children[1]);
        add(FindingKind::nested_loop, inner, product,
            fmt::format("nested loop: about {} outer rows × {} inner rows{}",
                        group_thousands(node.children[0].rows),
                        group_thousands(node.children[1].rows),
                        inner.empty() ? "" : " of " + inner));
      }
    }
    for (const PlanNode& child : node.children) visit(child);
  }
  std::vector<PlanFinding> findings{};

 private:
  static std::string first_relation(const PlanNode& node) {
    if (!node.relation.empty()) return node.relation;
    for (const PlanNode& child : node.children) {
      if (auto r = first_relation(child); !r.empty()) return r;
    }
    return {};
  }
  void add(FindingKind kind, std::string table, double rows, std::string message) {
    findings.push_back(
        {.kind = kind, .table = std::move(table), .rows = rows, .message = std::move(message)});
  }
  TableSizes& sizes_;
  const PlanCheckSettings& settings_;
};

class SqliteChecker {
 public:
  SqliteChecker(TableSizes& sizes, const PlanCheckSettings& settings, double cap)
      : sizes_(sizes), settings_(settings), cap_(cap) {}

  void visit(const PlanNode& node) {
    // This level's loops, outermost first: each full scan runs once per row of the loops
    // outside it, whatever the size of each table alone.
    std::vector<std::pair<std::string, double>> full_scans;
    for (const PlanNode& child : node.children) {
      if (child.operation == "SCAN" && !child.relation.empty()) {
        const double rows = sizes_.of("", child.relation);
        full_scans.emplace_back(child.relation, rows);
        if (rows >= settings_.large_table_rows) {
          add(FindingKind::sequential_scan, child.relation, rows,
              fmt::format("full scan of {}", table_phrase(child.relation, rows, cap_)));
          largest_scan_ = std::max(largest_scan_, rows);
        }
      } else if (child.operation == "SEARCH" && child.index == "AUTOMATIC") {
        const double rows = sizes_.of("", child.relation);
        add(FindingKind::sequential_scan, child.relation, rows,
            fmt::format("builds a temporary index over {} at every run",
                        table_phrase(child.relation, rows, cap_)));
        largest_scan_ = std::max(largest_scan_, rows);
      }
    }
    if (full_scans.size() >= 2) {
      double outer = 1;
      for (std::size_t i = 0; i + 1 < full_scans.size(); ++i) outer *= full_scans[i].second;
      const auto& [inner, inner_rows] = full_scans.back();
      if (outer * inner_rows >= settings_.nested_loop_rows) {
        add(FindingKind::nested_loop, inner, outer * inner_rows,
            fmt::format("nested loop: a full scan of {} for each of {} outer rows",
                        table_phrase(inner, inner_rows, cap_), group_thousands(outer)));
      }
    }
    for (const PlanNode& child : node.children) visit(child);
  }

  /// Temporary B-trees for ORDER BY matter when they sort what a large scan produced.
  void check_sorts(const PlanNode& root) {
    if (largest_scan_ <= 0) return;
    const bool sorts = any_node(root, [](const PlanNode& n) {
      return n.operation == "USE TEMP B-TREE" && n.detail.find("ORDER BY") != std::string::npos;
    });
    if (sorts) {
      add(FindingKind::sort_without_index, "", largest_scan_,
          "sorts at run time (USE TEMP B-TREE FOR ORDER BY) what a full scan produced");
    }
  }
  std::vector<PlanFinding> findings{};

 private:
  void add(FindingKind kind, std::string table, double rows, std::string message) {
    findings.push_back(
        {.kind = kind, .table = std::move(table), .rows = rows, .message = std::move(message)});
  }
  TableSizes& sizes_;
  const PlanCheckSettings& settings_;
  double cap_;
  double largest_scan_ = 0;
};

}  // namespace

std::string_view to_string(FindingKind kind) noexcept {
  switch (kind) {
    case FindingKind::sequential_scan:
      return "sequential_scan";
    case FindingKind::sort_without_index:
      return "sort_without_index";
    case FindingKind::nested_loop:
      return "nested_loop";
  }
  return "unknown";
}

std::string Plan::to_text() const {
  std::string out;
  if (dialect == Dialect::postgres) {
    postgres_text(root, 0, out);
  } else {
    out = "QUERY PLAN\n";
    sqlite_text(root, "", out);
  }
  return out;
}

bool Plan::uses_index(std::string_view name) const {
  return any_node(root, [&](const PlanNode& node) { return node.index == name; });
}

std::vector<PlanFinding> check_plan(Connection& connection, const Plan& plan,
                                    const PlanCheckSettings& settings) {
  const double cap = std::max(1e6, settings.large_table_rows * 10);
  TableSizes sizes(connection, cap);
  if (plan.dialect == Dialect::postgres) {
    PostgresChecker checker(sizes, settings);
    checker.visit(plan.root);
    return std::move(checker.findings);
  }
  SqliteChecker checker(sizes, settings, cap);
  checker.visit(plan.root);
  checker.check_sorts(plan.root);
  return std::move(checker.findings);
}

}  // namespace nexdb
