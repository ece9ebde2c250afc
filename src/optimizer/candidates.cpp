#include "optimizer/candidates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace nexdb::detail {
namespace {

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string bare(const std::string& column) {
  return column.ends_with(" DESC") ? column.substr(0, column.size() - 5) : column;
}

/// One block's tables with what the block asks of each.
class BlockAnalysis {
 public:
  BlockAnalysis(const QueryBlock& block, const TableLookup& tables) : block_(block) {
    for (const auto& source : block.sources) {
      const bool system = source.table.starts_with("pg_") || source.schema == "pg_catalog" ||
                          source.schema == "information_schema" ||
                          source.table.starts_with("sqlite_");
      infos_.push_back(system ? &empty_ : &tables(source.schema, source.table));
    }
    uses_.resize(block.sources.size());
  }

  void run() {
    std::vector<std::pair<std::pair<int, std::string>, std::pair<int, std::string>>> joins;
    for (const Predicate& p : block_.predicates) {
      const int s = resolve(p.column);
      if (p.kind == Predicate::Kind::join) {
        const int o = resolve(p.other);
        if (s >= 0 && o >= 0 && s != o) {
          joins.push_back({{s, p.column.column}, {o, p.other.column}});
          add_unique(uses_[s].join, p.column.column);
          add_unique(uses_[o].join, p.other.column);
        } else if (s >= 0 && o < 0 && !p.other.qualifier.empty()) {
          add_unique(uses_[s].equality, p.column.column);  // correlated: the outer row's value
        } else if (o >= 0 && s < 0 && !p.column.qualifier.empty()) {
          add_unique(uses_[o].equality, p.other.column);
        }
      } else if (s >= 0) {
        add_unique(p.kind == Predicate::Kind::equality ? uses_[s].equality : uses_[s].range,
                   p.column.column);
      }
    }
    // a.x = b.y and b.y = value: a.x = value too (the planner derives it the same way).
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [a, b] : joins) {
        changed |= propagate(a, b) | propagate(b, a);
      }
    }
    resolve_order();
  }

  void candidates(std::vector<Candidate>& out) const {
    for (std::size_t s = 0; s < uses_.size(); ++s) {
      if (infos_[s]->columns.empty()) continue;
      for (Candidate& c : candidates_for(s)) {
        if (!served(*infos_[s], c.columns)) out.push_back(std::move(c));
      }
    }
  }

 private:
  struct Uses {
    std::vector<std::string> equality, range, join;
    std::vector<std::string> order;  // with " DESC"
  };

  int resolve(const ColumnName& name) const {
    int found = -1;
    for (std::size_t i = 0; i < block_.sources.size(); ++i) {
      const auto& source = block_.sources[i];
      if (!name.qualifier.empty()) {
        if (name.qualifier == (source.alias.empty() ? source.table : source.alias))
          return static_cast<int>(i);
        continue;
      }
      if (contains(infos_[i]->columns, name.column)) {
        if (found >= 0) return -1;  // ambiguous
        found = static_cast<int>(i);
      }
    }
    if (found < 0 && name.qualifier.empty() && block_.sources.size() == 1) return 0;
    return found;
  }

  bool propagate(const std::pair<int, std::string>& from, const std::pair<int, std::string>& to) {
    if (!contains(uses_[from.first].equality, from.second) ||
        contains(uses_[to.first].equality, to.second))
      return false;
    uses_[to.first].equality.push_back(to.second);
    return true;
  }

  void resolve_order() {
    if (block_.order.empty()) return;
    int source = -1;
    std::vector<std::string> order;
    for (const OrderColumn& o : block_.order) {
      const int s = resolve(o.column);
      if (s < 0 || (source >= 0 && s != source))
        return;  // ordering over several tables: no index helps
      source = s;
      order.push_back(o.column.column + (o.descending ? " DESC" : ""));
    }
    // A B-tree is read in either direction: store the first column ascending.
    if (order.front().ends_with(" DESC")) {
      for (std::string& c : order) c = c.ends_with(" DESC") ? bare(c) : c + " DESC";
    }
    uses_[static_cast<std::size_t>(source)].order = std::move(order);
  }

  std::vector<Candidate> candidates_for(std::size_t s) const {
    const Uses u = known_columns(uses_[s], infos_[s]->columns);
    const auto& source = block_.sources[s];
    std::vector<std::string> eq(
        u.equality.begin(),
        u.equality.begin() + static_cast<long>(std::min<std::size_t>(u.equality.size(), 3)));
    std::vector<Candidate> out;
    std::set<std::string> seen;
    auto add = [&](std::vector<std::string> columns, bool covers_order) {
      if (columns.empty()) return;
      Candidate c{.schema = source.schema,
                  .table = source.table,
                  .columns = std::move(columns),
                  .covers_order = covers_order};
      if (seen.insert(c.key()).second) out.push_back(std::move(c));
    };
    // Most specific first: equality + ordering, equality + range, all equality, then singles.
    if (!u.order.empty()) {
      std::vector<std::string> cols = eq;
      for (const std::string& o : u.order) {
        if (!contains(eq, bare(o))) cols.push_back(o);
      }
      add(cols, true);
    }
    for (const std::string& r : u.range) {
      if (contains(eq, r)) continue;
      std::vector<std::string> cols = eq;
      cols.push_back(r);
      add(cols, false);
    }
    if (eq.size() >= 2) add(eq, false);
    for (const std::string& e : eq) add({e}, false);
    for (const std::string& r : u.range) add({r}, false);
    for (const std::string& j : u.join) add({j}, false);
    if (!u.order.empty() && !eq.empty()) add(u.order, true);
    return out;
  }

  /// `uses` without names that are not columns of the table (misresolved or expressions).
  static Uses known_columns(const Uses& uses, const std::vector<std::string>& columns) {
    const auto keep = [&](const std::vector<std::string>& list) {
      std::vector<std::string> out;
      for (const std::string& c : list) {
        if (contains(columns, bare(c))) out.push_back(c);
      }
      return out;
    };
    Uses out{.equality = keep(uses.equality),
             .range = keep(uses.range),
             .join = keep(uses.join),
             .order = {}};
    out.order =
        keep(uses.order).size() == uses.order.size() ? uses.order : std::vector<std::string>{};
    return out;
  }

  /// True when an existing valid index starts with `columns` (same names, same directions
  /// where the candidate mixes them).
  static bool served(const TableInfo& info, const std::vector<std::string>& columns) {
    for (const IndexInfo& index : info.indexes) {
      if (!index.valid || index.partial || index.type != "btree" ||
          index.columns.size() < columns.size())
        continue;
      bool match = true;
      for (std::size_t i = 0; i < columns.size() && match; ++i) {
        match = bare(index.columns[i]) == bare(columns[i]);
      }
      if (match) return true;
    }
    return false;
  }

  const QueryBlock& block_;
  std::vector<const TableInfo*> infos_;
  std::vector<Uses> uses_;
  static inline const TableInfo empty_{};
};

}  // namespace

std::string Candidate::key() const {
  return fmt::format("{}{}({})", schema.empty() ? "" : schema + ".", table,
                     fmt::join(columns, ", "));
}

std::vector<Candidate> index_candidates(const QueryFacts& facts, const TableLookup& tables,
                                        std::size_t limit) {
  std::vector<Candidate> out;
  for (const QueryBlock& block : facts.blocks) {
    BlockAnalysis analysis(block, tables);
    analysis.run();
    analysis.candidates(out);
  }
  // Drop repeats across blocks, keep the first (most specific) order.
  std::set<std::string> seen;
  std::vector<Candidate> unique;
  for (Candidate& c : out) {
    if (seen.insert(c.key()).second) unique.push_back(std::move(c));
  }
  if (unique.size() > limit) unique.resize(limit);
  return unique;
}

}  // namespace nexdb::detail
