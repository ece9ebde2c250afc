// `nexdb explain` and `nexdb index list|create|drop|unused|duplicates|invalid|suggest`.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "commands.hpp"
#include "context.hpp"
#include "nexdb/error.hpp"
#include "nexdb/optimizer.hpp"
#include "optimizer_output.hpp"

namespace nexdb::cli {
namespace {

struct IndexOptions {
  std::string cluster{};
  std::string table{};
  std::vector<std::string> columns{};
  std::string name{};
  std::string type = "btree";
  bool unique = false;
  std::string where{};
  std::vector<std::string> include{};
  bool concurrently = false;
  std::vector<std::string> statements{};
  std::vector<std::string> params{};
  std::size_t top = 20;
};

/// Every cluster of the configuration, or the one --cluster names.
IndexManager manager_of(const Config& config, const std::string& cluster) {
  Config selected = config;
  if (!cluster.empty()) {
    selected.clusters = {config.cluster(cluster)};  // ConfigError listing the clusters if unknown
  }
  return IndexManager::from_config(selected);
}

/// The primary of --cluster, else of the default cluster.
Database database_of(const Config& config, const std::string& cluster) {
  return Database::open(config, cluster);
}

std::string size_text(const std::optional<std::int64_t>& bytes) {
  if (!bytes) return "-";
  const double b = static_cast<double>(*bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MB", b / (1024.0 * 1024));
  return fmt::format("{} kB", *bytes / 1024);
}

OrderedJson index_json(const IndexInfo& i) {
  OrderedJson out{{"cluster", i.target},
                  {"schema", i.schema},
                  {"table", i.table},
                  {"name", i.name},
                  {"columns", i.columns},
                  {"type", i.type},
                  {"unique", i.unique},
                  {"primary", i.primary},
                  {"valid", i.valid},
                  {"partial", i.partial},
                  {"backs_constraint", i.backs_constraint},
                  {"definition", i.definition}};
  out["size_bytes"] = i.size_bytes ? OrderedJson(*i.size_bytes) : OrderedJson(nullptr);
  out["scans"] = i.scans ? OrderedJson(*i.scans) : OrderedJson(nullptr);
  return out;
}

std::string flags_of(const IndexInfo& i, const Terminal& term) {
  std::vector<std::string> flags;
  if (i.primary)
    flags.emplace_back("primary");
  else if (i.unique)
    flags.emplace_back("unique");
  if (i.partial) flags.emplace_back("partial");
  if (!i.valid) flags.push_back(term.red("INVALID"));
  return fmt::format("{}", fmt::join(flags, ","));
}

int print_indexes(const GlobalOptions& global, const std::vector<IndexInfo>& indexes,
                  std::string_view empty, std::string_view advice) {
  if (global.format == Format::json) {
    OrderedJson out = OrderedJson::array();
    for (const IndexInfo& i : indexes) out.push_back(index_json(i));
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  const Terminal term;
  if (indexes.empty()) {
    fmt::print("{}\n", empty);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const IndexInfo& i : indexes) {
    rows.push_back({i.target, i.table, i.name, fmt::format("{}", fmt::join(i.columns, ", ")),
                    i.type, flags_of(i, term), size_text(i.size_bytes),
                    i.scans ? std::to_string(*i.scans) : "-"});
  }
  term.table({"cluster", "table", "index", "columns", "type", "", "size", "scans"}, rows);
  if (!advice.empty()) fmt::print("{}\n", advice);
  return 0;
}

int print_changes(const GlobalOptions& global, const std::vector<IndexChange>& changes) {
  if (global.format == Format::json) {
    OrderedJson out = OrderedJson::array();
    for (const IndexChange& c : changes) {
      out.push_back({{"cluster", c.target},
                     {"index", c.index},
                     {"action", to_string(c.action)},
                     {"sql", c.sql}});
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  const Terminal term;
  for (const IndexChange& c : changes) {
    const bool did = c.action == IndexAction::created || c.action == IndexAction::rebuilt ||
                     c.action == IndexAction::dropped;
    fmt::print(
        "{} {} on {}{}\n",
        did ? term.green(std::string(to_string(c.action))) : std::string(to_string(c.action)),
        c.index, c.target, c.sql.empty() ? "" : ": " + c.sql);
  }
  return 0;
}

int run_create(const GlobalOptions& global, const IndexOptions& o) {
  const auto type = index_type_from_string(o.type);
  if (!type)
    throw UsageError(
        fmt::format("unknown index type '{}': btree, hash, gin, gist or brin", o.type));
  const IndexDefinition definition{.table = o.table,
                                   .columns = o.columns,
                                   .type = *type,
                                   .unique = o.unique,
                                   .where = o.where,
                                   .include = o.include,
                                   .concurrently = o.concurrently,
                                   .name = o.name};
  return print_changes(global, manager_of(load_config(global), o.cluster).create_index(definition));
}

int run_duplicates(const GlobalOptions& global, const IndexOptions& o) {
  const auto duplicates = manager_of(load_config(global), o.cluster).duplicates();
  if (global.format == Format::json) {
    OrderedJson out = OrderedJson::array();
    for (const DuplicateIndex& d : duplicates) {
      out.push_back({{"unneeded", index_json(d.unneeded)},
                     {"covering", index_json(d.covering)},
                     {"drop_sql", d.drop_sql}});
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  if (duplicates.empty()) fmt::print("no duplicate indexes\n");
  for (const DuplicateIndex& d : duplicates) {
    fmt::print("{}: {} ({}) is covered by {} ({}) -- {};\n", d.unneeded.target, d.unneeded.name,
               fmt::join(d.unneeded.columns, ", "), d.covering.name,
               fmt::join(d.covering.columns, ", "), d.drop_sql);
  }
  return 0;
}

/// Statements from the command line, or PostgreSQL's pg_stat_statements when none are given.
std::vector<WorkloadQuery> workload_of(IndexAdvisor& advisor, Dialect dialect,
                                       const IndexOptions& o) {
  if (o.statements.empty()) {
    if (!o.params.empty()) throw UsageError("--param needs a statement to bind to");
    return advisor.workload_from_pg_stat_statements(o.top);
  }
  if (!o.params.empty() && o.statements.size() != 1) {
    throw UsageError("--param binds the values of one statement; give one statement with it");
  }
  std::vector<WorkloadQuery> workload;
  for (const std::string& sql : o.statements) {
    // PostgreSQL statements with $n placeholders and no values: plan them generically.
    const bool generic =
        dialect == Dialect::postgres && o.params.empty() && sql.find('$') != std::string::npos;
    workload.push_back(
        {.statement = {sql, parse_params(o.params)}, .calls = 1, .generic = generic});
  }
  return workload;
}

int run_suggest(const GlobalOptions& global, const IndexOptions& o) {
  Database db = database_of(load_config(global), o.cluster);
  IndexAdvisor advisor(db);
  const auto workload = workload_of(advisor, db.dialect(), o);
  const auto suggestions = advisor.suggest(workload);
  if (global.format == Format::json) {
    OrderedJson out = OrderedJson::array();
    for (const IndexSuggestion& s : suggestions) out.push_back(suggestion_json(s));
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  const Terminal term;
  fmt::print("{} statement(s) analysed on {}\n", workload.size(), db.description());
  if (suggestions.empty()) fmt::print("no index would cut their cost by half or more\n");
  for (const IndexSuggestion& s : suggestions) {
    fmt::print("{} {}\n  {};\n", term.green("suggest"), suggestion_line(s), s.create_sql);
  }
  return 0;
}

int run_explain(const GlobalOptions& global, const IndexOptions& o) {
  if (o.statements.size() != 1) throw UsageError("explain takes one SQL statement");
  Database db = database_of(load_config(global), o.cluster);
  const auto workload = [&] {
    IndexAdvisor advisor(db);
    return workload_of(advisor, db.dialect(), o);
  }();
  Lease lease = db.connection();
  const WorkloadQuery& query = workload.front();
  const Plan plan = query.generic ? explain_generic(*lease, query.statement.sql)
                                  : explain(*lease, query.statement);
  const auto findings = check_plan(*lease, plan);
  if (global.format == Format::json) {
    fmt::print(
        "{}\n",
        OrderedJson{{"plan", plan_json(plan)}, {"findings", findings_json(findings)}}.dump(2));
    return 0;
  }
  const Terminal term;
  fmt::print("{}", plan.to_text());
  for (const PlanFinding& f : findings) fmt::print("{} {}\n", term.red("finding:"), f.message);
  if (findings.empty())
    fmt::print("{} no large sequential scans, unindexed sorts or big nested loops\n",
               term.green("ok:"));
  return 0;
}

void add_target_options(CLI::App* command, IndexOptions& o) {
  command->add_option("--cluster", o.cluster, "Only this cluster (default: every cluster)");
}

void add_statement_options(CLI::App* command, IndexOptions& o) {
  command->add_option("--cluster", o.cluster,
                      "The cluster whose primary to ask (default: the default cluster)");
  command
      ->add_option("--param", o.params, "A value for $1, $2, ... (or ?) in order; repeat for each")
      ->type_name("VALUE");
}

}  // namespace

void add_index_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto o = std::make_shared<IndexOptions>();
  auto* explain_cmd = app.add_subcommand(
      "explain", "The plan of a statement (without running it) and what is wrong with it");
  explain_cmd->add_option("sql", o->statements, "The statement")->required()->expected(1);
  add_statement_options(explain_cmd, *o);
  registry.on(explain_cmd, [&global, o] { return run_explain(global, *o); });

  auto* index =
      app.add_subcommand("index", "Indexes on every cluster: list, create, drop, health, advice")
          ->require_subcommand(1);
  auto* list = index->add_subcommand("list", "Indexes with their columns, size and scans");
  list->add_option("--table", o->table, "Only this table");
  add_target_options(list, *o);
  registry.on(list, [&global, o] {
    return print_indexes(global, manager_of(load_config(global), o->cluster).list(o->table),
                         "no indexes", "");
  });

  auto* create =
      index->add_subcommand("create", "Create an index where it is missing (idempotent)");
  create->add_option("table", o->table, "Table (schema.table allowed)")->required();
  create->add_option("columns", o->columns, "Columns, e.g. user_id \"created_at DESC\"")
      ->required();
  create->add_option("--name", o->name, "Index name (default: <table>_<columns>_idx)");
  create->add_option("--type", o->type, "btree, hash, gin, gist or brin")->capture_default_str();
  create->add_flag("--unique", o->unique, "A unique index");
  create->add_option("--where", o->where, "Predicate of a partial index, e.g. \"status = 'open'\"");
  create->add_option("--include", o->include, "Covering columns (PostgreSQL)");
  create->add_flag("--concurrently", o->concurrently, "PostgreSQL: build without blocking writes");
  add_target_options(create, *o);
  registry.on(create, [&global, o] { return run_create(global, *o); });

  auto* drop = index->add_subcommand("drop", "Drop an index where it exists (idempotent)");
  drop->add_option("name", o->name, "Index name (schema.name allowed)")->required();
  drop->add_flag("--concurrently", o->concurrently,
                 "PostgreSQL: drop without blocking reads and writes");
  add_target_options(drop, *o);
  registry.on(drop, [&global, o] {
    return print_changes(global, manager_of(load_config(global), o->cluster)
                                     .drop_index(o->name, {.concurrently = o->concurrently}));
  });

  auto* unused = index->add_subcommand(
      "unused",
      "PostgreSQL: indexes never scanned since statistics were reset (replicas included)");
  add_target_options(unused, *o);
  registry.on(unused, [&global, o] {
    return print_indexes(
        global, manager_of(load_config(global), o->cluster).unused(), "no unused indexes",
        "Each one slows every write; drop it with `nexdb index drop NAME --concurrently` "
        "once you are sure no rare job needs it.");
  });

  auto* duplicates =
      index->add_subcommand("duplicates", "Indexes covered by another index's leading columns");
  add_target_options(duplicates, *o);
  registry.on(duplicates, [&global, o] { return run_duplicates(global, *o); });

  auto* invalid = index->add_subcommand(
      "invalid", "PostgreSQL: indexes left invalid by a failed concurrent build");
  add_target_options(invalid, *o);
  registry.on(invalid, [&global, o] {
    return print_indexes(
        global, manager_of(load_config(global), o->cluster).invalid(), "no invalid indexes",
        "They slow writes and serve no reads: `nexdb index create` with the same definition "
        "rebuilds one, `nexdb index drop` removes it.");
  });

  auto* suggest = index->add_subcommand(
      "suggest",
      "Indexes that would cut the cost of statements by half or more, verified by the planner");
  suggest->add_option(
      "sql", o->statements,
      "Statements to advise on (default, PostgreSQL: the top of pg_stat_statements)");
  suggest->add_option("--top", o->top, "How many statements of pg_stat_statements")
      ->capture_default_str();
  add_statement_options(suggest, *o);
  registry.on(suggest, [&global, o] { return run_suggest(global, *o); });
}

}  // namespace nexdb::cli
