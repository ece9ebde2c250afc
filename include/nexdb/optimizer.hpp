// QueryOptimizer: runs queries on prepared statements, watches every query shape, checks the
// plans of frequent or slow shapes, keeps an optional result cache, and proposes indexes that
// the planner confirms (HypoPG hypothetical indexes on PostgreSQL, a real index in a rolled-back
// transaction on SQLite). See docs/optimizer.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/database.hpp"
#include "nexdb/index.hpp"

namespace nexdb {

// ---- plans ----------------------------------------------------------------------------------

/// One node of a query plan.
struct PlanNode {
  /// PostgreSQL's node type ("Seq Scan", "Index Scan", "Sort", "Nested Loop", ...); on SQLite the
  /// first word(s) of the plan line ("SCAN", "SEARCH", "USE TEMP B-TREE", ...).
  std::string operation{};
  std::string relation{};  // the table read, if any
  std::string schema{};    // its schema (PostgreSQL)
  std::string index{};     // the index used, if any
  /// PostgreSQL: conditions, filter and sort key; SQLite: the whole plan line.
  std::string detail{};
  double startup_cost = 0;  // PostgreSQL planner cost units; 0 on SQLite
  double total_cost = 0;
  double rows = 0;  // estimated rows out (PostgreSQL); 0 on SQLite
  std::vector<PlanNode> children{};
};

struct Plan {
  Dialect dialect = Dialect::sqlite;
  PlanNode root{};
  /// PostgreSQL: the EXPLAIN (FORMAT JSON) document; SQLite: EXPLAIN QUERY PLAN's lines.
  std::string raw{};

  /// The planner's total cost (PostgreSQL); 0 on SQLite, which exposes none.
  double total_cost() const noexcept { return root.total_cost; }
  /// An indented tree, one line per node, like psql's EXPLAIN.
  std::string to_text() const;
  /// True when some node reads through the index called `name`.
  bool uses_index(std::string_view name) const;
};

/// The plan `statement` would run with (its values bound, so the planner sees them), without
/// running it: EXPLAIN (FORMAT JSON) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.
Plan explain(Connection& connection, const Statement& statement);
/// PostgreSQL: the generic plan of a statement known only with placeholders ($1 without values,
/// as pg_stat_statements has them) — the plan a prepared statement uses after its first runs.
/// Prepared under a temporary name and deallocated; the session's plan_cache_mode is restored.
Plan explain_generic(Connection& connection, std::string_view sql);

enum class FindingKind {
  sequential_scan,     // a large table read in full
  sort_without_index,  // rows sorted at run time that an index could deliver in order
  nested_loop,         // a nested loop over many rows
};
std::string_view to_string(FindingKind kind) noexcept;

struct PlanFinding {
  FindingKind kind = FindingKind::sequential_scan;
  std::string table{};  // the table concerned, when there is one
  /// Sequential scan: the table's rows; sort: rows sorted (estimate); nested loop: outer × inner.
  double rows = 0;
  std::string message{};  // one line for people
};

struct PlanCheckSettings {
  /// A sequential scan is flagged on tables with at least this many rows (PgHero's bound).
  double large_table_rows = 10000;
  /// A sort is flagged when it sorts at least this many rows (PostgreSQL's estimate); on SQLite
  /// (no estimates) when the tables it reads have at least large_table_rows.
  double sort_rows = 1000;
  /// A nested loop is flagged when outer rows × inner rows reach this.
  double nested_loop_rows = 1000000;
};

/// What is wrong with `plan`: large sequential scans, sorts without an index, big nested loops.
/// Reads table sizes through `connection` (pg_class / a bounded count on SQLite).
std::vector<PlanFinding> check_plan(Connection& connection, const Plan& plan,
                                    const PlanCheckSettings& settings = {});

// ---- index advice ---------------------------------------------------------------------------

/// A statement of the workload to advise on.
struct WorkloadQuery {
  Statement statement{};
  std::uint64_t calls = 1;
  /// PostgreSQL: plan without the values (a generic plan), for statements known only in their
  /// normalised form ($1, $2 without values, as pg_stat_statements has them).
  bool generic = false;
};

/// A query an index suggestion helps, with its cost before and after (the index hypothetical).
struct HelpedQuery {
  std::string sql{};
  std::string fingerprint{};
  std::uint64_t calls = 0;
  double cost_before = 0;
  double cost_after = 0;
};

struct IndexSuggestion {
  std::string table{};
  std::vector<std::string> columns{};  // in index order; "created_at DESC" when order matters
  /// Sums over the queries helped: PostgreSQL planner cost, or SQLite virtual-machine steps
  /// measured by running the query (SQLite's planner exposes no cost); see cost_unit.
  double cost_before = 0;
  double cost_after = 0;
  std::string cost_unit{};
  std::vector<HelpedQuery> queries{};
  IndexDefinition definition{};
  std::string create_sql{};  // the CREATE INDEX to run

  /// 1 - after / before: 0.9 means 90% cheaper.
  double reduction() const noexcept { return cost_before > 0 ? 1.0 - cost_after / cost_before : 0; }
};

struct AdviceSettings {
  /// Keep an index only if it cuts the query's cost by at least this fraction.
  double min_cost_reduction = 0.5;
  /// Candidates tried per query (most specific first).
  std::size_t max_candidates_per_query = 12;
  /// Indexes suggested per query (the second must cut the cost again by the margin).
  std::size_t max_indexes_per_query = 2;
};

/// Proposes indexes for a workload and verifies each with the planner: on PostgreSQL with
/// HypoPG (hypothetical indexes, nothing is built; the extension must be installed in the
/// database), on SQLite by building the candidate inside a transaction that is rolled back and
/// measuring the query's work with and without it (this holds SQLite's write lock while it runs).
class IndexAdvisor {
 public:
  explicit IndexAdvisor(Database database, AdviceSettings settings = {});

  /// Suggestions for the workload, most valuable first. Statements that cannot be analysed
  /// (not a SELECT/UPDATE/DELETE, unparsable) are skipped. Throws UsageError on PostgreSQL when
  /// HypoPG is not installed.
  std::vector<IndexSuggestion> suggest(std::span<const WorkloadQuery> workload);
  /// PostgreSQL: the `top` statements of pg_stat_statements by total time in this database, as a
  /// generic workload. Throws UsageError when the extension is missing, or on SQLite.
  std::vector<WorkloadQuery> workload_from_pg_stat_statements(std::size_t top = 20);

 private:
  Database database_;
  AdviceSettings settings_;
};

// ---- the optimizer --------------------------------------------------------------------------

struct OptimizerSettings {
  /// Check the plans of shapes (see QueryOptimizer): on this call of a shape...
  std::uint64_t plan_check_after_calls = 100;
  /// ...or on its first call slower than this.
  std::chrono::milliseconds slow_query{100};
  /// Check again this long after the last check, and after DDL run by this process.
  std::chrono::seconds recheck_after{3600};
  bool plan_checks = true;
  PlanCheckSettings plan_check{};
  AdviceSettings advice{};
  /// Distinct SQL texts tracked; beyond this, new texts run without bookkeeping (counted in
  /// OptimizerStats::untracked). Builder queries produce one text per shape.
  std::size_t max_shapes = 10000;
  /// Result cache bounds (least recently used entries go first); 0 entries disables it.
  std::size_t result_cache_entries = 10000;
  std::size_t result_cache_bytes = 64 * 1024 * 1024;
};

/// Per-call options of QueryOptimizer::run().
struct QueryOptions {
  /// Cache the result this long (0: not cacheable). Only for pure reads: the entry is dropped
  /// when a statement run through this optimizer writes to a table the query reads.
  std::chrono::milliseconds cache_ttl{0};
};

/// What the optimizer knows about one query shape (statements equal up to their values).
struct ShapeReport {
  std::string fingerprint{};  // libpg_query's fingerprint (hex), as pg_stat_statements tools use
  std::string sql{};          // the first text seen of this shape
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t rows = 0;
  std::chrono::nanoseconds total_time{0};
  std::chrono::nanoseconds max_time{0};
  std::chrono::nanoseconds mean_time() const noexcept {
    return calls > 0 ? total_time / static_cast<std::int64_t>(calls) : std::chrono::nanoseconds{0};
  }
  std::vector<std::string> tables{};    // tables it reads
  std::optional<Plan> plan{};           // the last plan checked
  std::vector<PlanFinding> findings{};  // what that check found
  std::string plan_error{};             // why the last check failed, if it did
};

/// Counters for monitoring (the metrics module exports them).
struct OptimizerStats {
  std::uint64_t queries = 0;
  std::uint64_t shapes = 0;
  std::uint64_t untracked = 0;  // runs of texts beyond max_shapes
  std::uint64_t plan_checks = 0;
  std::uint64_t plan_check_errors = 0;
  std::uint64_t findings = 0;  // current findings over all shapes
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_entries = 0;
  std::uint64_t cache_bytes = 0;
  std::uint64_t cache_evictions = 0;
  std::uint64_t cache_invalidations = 0;
};

namespace detail {
struct OptimizerState;
}

/// Runs queries for an application and learns from them:
///   * every statement runs as a prepared statement, prepared once per pooled connection and
///     reused (the driver's per-connection LRU; re-prepared after DDL, see docs/driver.md);
///   * each shape's calls, time, rows and errors are counted (a few hundred nanoseconds);
///   * a shape's plan is checked once it has run plan_check_after_calls times, or at once when a
///     call is slower than slow_query — EXPLAIN with the values of its slowest call, right after
///     that call on the same connection — flagging large sequential scans, sorts without an
///     index and big nested loops;
///   * results of queries run with a cache_ttl are cached; writes through the optimizer to a
///     table drop the cached results that read it;
///   * suggest_indexes() turns the shapes worth improving into verified index suggestions.
/// A handle: copies share one state; thread-safe.
class QueryOptimizer {
 public:
  explicit QueryOptimizer(Database database, OptimizerSettings settings = {});

  /// Runs a builder query (rendered for the database's dialect) or a statement.
  template <Renderable Q>
  Rows run(const Q& query, QueryOptions options = {}) {
    return run(query.render(dialect()), options);
  }
  Rows run(const Statement& statement, QueryOptions options = {});

  /// Wraps a function that builds a query (the seed's `@optimizer.optimize`): the result takes
  /// the same arguments and returns the query's Rows, run through this optimizer.
  template <class Fn>
  auto optimize(Fn build, QueryOptions options = {}) const {
    return [optimizer = *this, build = std::move(build), options](auto&&... args) mutable -> Rows {
      return optimizer.run(build(std::forward<decltype(args)>(args)...), options);
    };
  }

  /// The plan of a query or statement, without running it.
  template <Renderable Q>
  Plan explain(const Q& query) {
    return explain(query.render(dialect()));
  }
  Plan explain(const Statement& statement);

  /// Every tracked shape, the most total time first.
  std::vector<ShapeReport> shapes() const;
  /// Checks the plan of every shape that has run, now (instead of waiting for the thresholds).
  void check_plans();
  /// Index suggestions for the shapes worth improving: those whose plan check found something,
  /// or slower than slow_query on average. Verified as IndexAdvisor does.
  std::vector<IndexSuggestion> suggest_indexes();

  /// Drops cached results that read `table` (for writes that did not go through the optimizer).
  void invalidate(std::string_view table);
  void invalidate_all();

  OptimizerStats stats() const;
  Dialect dialect() const noexcept;
  Database& database() noexcept;
  const OptimizerSettings& settings() const noexcept;

 private:
  std::shared_ptr<detail::OptimizerState> state_;
};

}  // namespace nexdb
