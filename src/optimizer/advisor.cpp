// IndexAdvisor: candidates per statement, each verified by the planner (PostgreSQL + HypoPG) or
// by building it in a rolled-back transaction and measuring (SQLite).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>

#include "driver/sqlite/sqlite_connection.hpp"
#include "index/index_sql.hpp"
#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"
#include "nexdb/sql_text.hpp"
#include "optimizer/candidates.hpp"
#include "optimizer/plans.hpp"
#include "optimizer/query_facts.hpp"

namespace nexdb {
namespace {

using detail::Candidate;

struct Measure {
  double cost = 0;
  bool used = false;
};

/// Adds and removes candidate indexes on one connection and measures a query against them.
class Verifier {
 public:
  virtual ~Verifier() = default;
  /// Makes `candidate` visible to the planner; returns the name plans will show.
  virtual std::string add(const Candidate& candidate) = 0;
  virtual void remove_last() = 0;
  virtual Measure measure(const WorkloadQuery& query, const std::string& index) = 0;
  virtual std::string_view unit() const = 0;
};

/// CREATE INDEX without a name: HypoPG names hypothetical indexes itself.
std::string hypothetical_sql(const Candidate& c) {
  std::vector<std::string> keys;
  for (const std::string& column : c.columns)
    keys.push_back(detail::parse_column_spec(column).sql());
  return fmt::format("CREATE INDEX ON {} USING btree ({})",
                     detail::quote_qualified({.schema = c.schema, .name = c.table}),
                     fmt::join(keys, ", "));
}

/// HypoPG: hypothetical indexes live in this session only and cost nothing to create.
class HypoPgVerifier final : public Verifier {
 public:
  explicit HypoPgVerifier(Connection& connection) : connection_(connection) {
    const Rows rows = connection.execute(
        "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'hypopg'");
    if (rows.empty()) {
      throw UsageError(
          fmt::format("index advice on PostgreSQL needs the hypopg extension in this database "
                      "({}): install the "
                      "package (Debian: postgresql-15-hypopg) and run CREATE EXTENSION hypopg",
                      connection.description()));
    }
    schema_ = quote_identifier(rows.scalar<std::string>());
  }
  ~HypoPgVerifier() override {
    try {
      connection_.execute(Statement{fmt::format("SELECT {}.hypopg_reset()", schema_), {}});
    } catch (const std::exception& e) {
      spdlog::debug("hypopg_reset failed: {}", e.what());
    }
  }

  std::string add(const Candidate& candidate) override {
    // Plans show it as "<oid>btree_orders_user_id".
    const Rows rows = connection_.execute(Statement{
        fmt::format("SELECT indexrelid::int8, indexname::text FROM {}.hypopg_create_index($1)",
                    schema_),
        {hypothetical_sql(candidate)}});
    oids_.push_back(rows[0].get<std::int64_t>(0));
    return rows[0].get<std::string>(1);
  }
  void remove_last() override {
    connection_.execute(
        Statement{fmt::format("SELECT {}.hypopg_drop_index($1::oid)", schema_), {oids_.back()}});
    oids_.pop_back();
  }
  Measure measure(const WorkloadQuery& query, const std::string& index) override {
    const Plan plan = detail::explain_for(connection_, query.statement, query.generic);
    return {.cost = plan.total_cost(), .used = !index.empty() && plan.uses_index(index)};
  }
  std::string_view unit() const override { return "planner cost"; }

 private:
  Connection& connection_;
  std::string schema_;
  std::vector<std::int64_t> oids_;
};

/// SQLite: a real index inside a transaction that is rolled back; the work is the statement's
/// virtual-machine steps, measured by running it.
class SqliteVerifier final : public Verifier {
 public:
  explicit SqliteVerifier(Connection& connection) : connection_(connection), tx_(connection) {}

  std::string add(const Candidate& candidate) override {
    const std::string name = fmt::format("nexdb_candidate_{}", ++counter_);
    const std::string savepoint = fmt::format("nexdb_advice_{}", counter_);
    connection_.execute_script("SAVEPOINT " + savepoint);
    savepoints_.push_back(savepoint);
    IndexDefinition definition{
        .table = candidate.table, .columns = candidate.columns, .name = name};
    connection_.execute_script(definition.create_sql(Dialect::sqlite, false));
    return name;
  }
  void remove_last() override {
    const std::string savepoint = savepoints_.back();
    savepoints_.pop_back();
    connection_.execute_script(fmt::format("ROLLBACK TO {0}; RELEASE {0}", savepoint));
  }
  Measure measure(const WorkloadQuery& query, const std::string& index) override {
    const bool used = !index.empty() && explain(connection_, query.statement).uses_index(index);
    (void)connection_.execute(query.statement);
    const auto steps = detail::sqlite_last_vm_steps(connection_);
    return {.cost = static_cast<double>(steps.value_or(0)), .used = used};
  }
  std::string_view unit() const override { return "SQLite VM steps"; }

 private:
  Connection& connection_;
  Transaction tx_;  // never committed: every candidate goes away with it
  std::vector<std::string> savepoints_;
  int counter_ = 0;
};

/// Tables' columns and indexes, read once per suggest() call.
class Catalog {
 public:
  explicit Catalog(Connection& connection) : connection_(connection) {}
  const detail::TableInfo& operator()(const std::string& schema, const std::string& table) {
    const std::string key = schema + "." + table;
    auto it = tables_.find(key);
    if (it != tables_.end()) return it->second;
    detail::TableInfo info;
    const std::string name = schema.empty() ? table : schema + "." + table;
    try {
      info.columns = detail::read_table_columns(connection_, name);
      if (!info.columns.empty()) info.indexes = detail::read_indexes(connection_, "", name);
    } catch (const std::exception& e) {
      spdlog::debug("index advice: cannot read table {}: {}", name, e.what());
      info = {};
    }
    return tables_.emplace(key, std::move(info)).first->second;
  }

 private:
  Connection& connection_;
  std::map<std::string, detail::TableInfo> tables_;
};

struct Chosen {
  Candidate candidate;
  double before = 0;
  double after = 0;
};

bool better(const Measure& m, const Candidate& c,
            const std::optional<std::pair<Measure, Candidate>>& best) {
  if (!best) return true;
  const double a = m.cost;
  const double b = best->first.cost;
  // Within 1%: the planner sees no difference now; prefer the index that also delivers the
  // ORDER BY (robust when a key has more rows than the sample), then the narrower one.
  if (std::abs(a - b) <= 0.01 * std::max(a, b)) {
    if (c.covers_order != best->second.covers_order) return c.covers_order;
    return c.columns.size() < best->second.columns.size();
  }
  return a < b;
}

std::vector<Chosen> advise_query(Verifier& verifier, const WorkloadQuery& query,
                                 const std::vector<Candidate>& candidates,
                                 const AdviceSettings& settings) {
  std::vector<Chosen> chosen;
  double current = verifier.measure(query, "").cost;
  for (std::size_t round = 0; round < settings.max_indexes_per_query; ++round) {
    std::optional<std::pair<Measure, Candidate>> best;
    for (const Candidate& c : candidates) {
      const bool taken = std::any_of(chosen.begin(), chosen.end(), [&](const Chosen& k) {
        return k.candidate.table == c.table && k.candidate.schema == c.schema;
      });
      if (taken) continue;
      const std::string name = verifier.add(c);
      const Measure m = verifier.measure(query, name);
      verifier.remove_last();
      if (m.used && better(m, c, best)) best = std::make_pair(m, c);
    }
    if (!best || best->first.cost > current * (1.0 - settings.min_cost_reduction)) break;
    chosen.push_back({.candidate = best->second, .before = current, .after = best->first.cost});
    current = best->first.cost;
    (void)verifier.add(best->second);  // kept for the next round
  }
  for (std::size_t i = 0; i < chosen.size(); ++i) verifier.remove_last();
  return chosen;
}

bool advisable(const detail::QueryFacts& facts, Dialect dialect, bool generic) {
  using K = detail::QueryFacts::Kind;
  if (!facts.parsed || facts.blocks.empty()) return false;
  if (dialect == Dialect::sqlite)
    return facts.kind == K::select && !generic;  // measured by running it
  return facts.kind == K::select || facts.kind == K::update || facts.kind == K::delete_;
}

}  // namespace

IndexAdvisor::IndexAdvisor(Database database, AdviceSettings settings)
    : database_(std::move(database)), settings_(settings) {}

std::vector<IndexSuggestion> IndexAdvisor::suggest(std::span<const WorkloadQuery> workload) {
  Lease lease = database_.connection();
  Connection& connection = *lease;
  const Dialect dialect = connection.dialect();
  std::unique_ptr<Verifier> verifier;
  if (dialect == Dialect::postgres)
    verifier = std::make_unique<HypoPgVerifier>(connection);
  else
    verifier = std::make_unique<SqliteVerifier>(connection);
  Catalog catalog(connection);
  const detail::TableLookup tables = [&](const std::string& schema,
                                         const std::string& table) -> const detail::TableInfo& {
    return catalog(schema, table);
  };

  std::map<std::string, IndexSuggestion> by_index;
  for (const WorkloadQuery& query : workload) {
    const auto facts = detail::analyze_statement(query.statement.sql, dialect);
    if (!advisable(facts, dialect, query.generic)) continue;
    const auto candidates =
        detail::index_candidates(facts, tables, settings_.max_candidates_per_query);
    if (candidates.empty()) continue;
    std::vector<Chosen> chosen;
    try {
      chosen = advise_query(*verifier, query, candidates, settings_);
    } catch (const Error& e) {
      spdlog::debug("index advice skipped a statement: {}", e.what());
      continue;
    }
    const std::string pg_text = dialect == Dialect::sqlite
                                    ? detail::with_dollar_placeholders(query.statement.sql)
                                    : query.statement.sql;
    const auto fingerprint = sql::try_fingerprint(pg_text);
    for (const Chosen& c : chosen) {
      IndexSuggestion& s = by_index[c.candidate.key()];
      if (s.table.empty()) {
        s.table = c.candidate.schema.empty() ? c.candidate.table
                                             : c.candidate.schema + "." + c.candidate.table;
        s.columns = c.candidate.columns;
        s.cost_unit = std::string(verifier->unit());
        s.definition = IndexDefinition{.table = s.table, .columns = s.columns};
        s.create_sql = s.definition.create_sql(dialect);
      }
      s.cost_before += c.before;
      s.cost_after += c.after;
      s.queries.push_back({.sql = query.statement.sql,
                           .fingerprint = fingerprint ? fingerprint->hex : "",
                           .calls = query.calls,
                           .cost_before = c.before,
                           .cost_after = c.after});
    }
  }
  std::vector<IndexSuggestion> out;
  for (auto& [key, s] : by_index) out.push_back(std::move(s));
  const auto saving = [](const IndexSuggestion& s) {
    double total = 0;
    for (const HelpedQuery& q : s.queries)
      total += (q.cost_before - q.cost_after) * static_cast<double>(q.calls);
    return total;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const auto& a, const auto& b) { return saving(a) > saving(b); });
  return out;
}

std::vector<WorkloadQuery> IndexAdvisor::workload_from_pg_stat_statements(std::size_t top) {
  if (database_.dialect() != Dialect::postgres) {
    throw UsageError("SQLite has no pg_stat_statements: give the statements to advise on");
  }
  Lease lease = database_.connection();
  const Rows schema = lease->execute(
      "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pg_stat_statements'");
  if (schema.empty()) {
    throw UsageError(fmt::format(
        "pg_stat_statements is not installed in {}: add it to shared_preload_libraries "
        "and run CREATE EXTENSION pg_stat_statements, or give the statements to advise on",
        lease->description()));
  }
  // Statements of this database by total time; our own EXPLAIN/PREPARE and catalog reads excluded.
  const Rows rows = lease->execute(Statement{
      fmt::format("SELECT s.query, s.calls FROM {}.pg_stat_statements s JOIN pg_database d ON "
                  "d.oid = s.dbid "
                  "WHERE d.datname = current_database() AND s.query ~* "
                  "'^\\s*(select|update|delete|with)\\M' "
                  "AND s.query !~* '(pg_catalog|pg_class|pg_stat|hypopg|information_schema)' "
                  "ORDER BY s.total_exec_time DESC LIMIT $1",
                  quote_identifier(schema.scalar<std::string>())),
      {static_cast<std::int64_t>(top)}});
  std::vector<WorkloadQuery> out;
  for (Row row : rows) {
    out.push_back({.statement = {row.get<std::string>(0), {}},
                   .calls = static_cast<std::uint64_t>(row.get<std::int64_t>(1)),
                   .generic = true});
  }
  return out;
}

}  // namespace nexdb
