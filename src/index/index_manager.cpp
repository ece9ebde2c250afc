#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "index/index_sql.hpp"
#include "nexdb/config.hpp"
#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb {
namespace {

/// The same error type, its message naming the target and the targets already done.
[[noreturn]] void rethrow_for_target(const Error& e, std::string_view what,
                                     const std::string& target,
                                     const std::vector<std::string>& done) {
  std::string message = fmt::format("{} on {} failed: {}", what, target, e.message());
  if (!done.empty()) {
    message +=
        fmt::format(" (already done on {}; running it again is safe)", fmt::join(done, ", "));
  }
  Error::Details details{.sqlstate = e.sqlstate(), .host = e.host(), .statement = e.statement()};
  if (dynamic_cast<const SqlError*>(&e)) throw_sql_error(std::move(message), std::move(details));
  if (dynamic_cast<const ConnectionError*>(&e))
    throw ConnectionError(std::move(message), std::move(details));
  if (dynamic_cast<const TimeoutError*>(&e))
    throw TimeoutError(std::move(message), std::move(details));
  if (dynamic_cast<const ConfigError*>(&e))
    throw ConfigError(std::move(message), std::move(details));
  if (dynamic_cast<const UsageError*>(&e)) throw UsageError(std::move(message), std::move(details));
  throw Error(std::move(message), std::move(details));
}

template <class Fn>
void for_each_target(std::vector<IndexTarget>& targets, std::string_view what, Fn&& fn) {
  std::vector<std::string> done;
  for (IndexTarget& target : targets) {
    try {
      fn(target);
    } catch (const Error& e) {
      rethrow_for_target(e, what, target.name, done);
    }
    done.push_back(target.name);
  }
}

std::vector<std::string> canonical_columns(const IndexDefinition& definition) {
  std::vector<std::string> out;
  for (const std::string& column : definition.columns)
    out.push_back(detail::parse_column_spec(column).canonical());
  return out;
}

bool same_definition(const IndexInfo& info, const IndexDefinition& definition) {
  return info.columns == canonical_columns(definition) && info.unique == definition.unique &&
         info.type == to_string(definition.type) && info.partial == !definition.where.empty();
}

/// DDL runs as one statement through the driver's single-statement path (never a script), so
/// text that one backend's tokenizer reads differently from libpg_query's can never smuggle in
/// a second statement.
void run_ddl(Connection& connection, const std::string& sql) {
  (void)connection.execute(Statement{sql, {}});
}

std::string drop_sql(Dialect dialect, const detail::QualifiedName& name, bool concurrently) {
  return fmt::format("DROP INDEX {}IF EXISTS {}",
                     dialect == Dialect::postgres && concurrently ? "CONCURRENTLY " : "",
                     detail::quote_qualified(name));
}

IndexChange create_on(IndexTarget& target, const IndexDefinition& definition) {
  Lease lease = target.database.connection();
  const Dialect dialect = lease->dialect();
  const std::string name = definition.index_name();
  const std::string create = definition.create_sql(dialect);  // validates before touching anything
  const auto existing = detail::read_indexes(*lease, target.name, definition.table);
  auto it = std::find_if(existing.begin(), existing.end(),
                         [&](const IndexInfo& i) { return i.name == name; });
  IndexChange change{
      .target = target.name, .index = name, .action = IndexAction::created, .sql = create};
  if (it != existing.end() && it->valid) {
    if (!same_definition(*it, definition)) {
      throw UsageError(fmt::format(
          "index {} already exists on {} as ({}{}{}{}), not as defined ({}{}{}{}); drop it "
          "first or give the new index another name",
          name, it->table, fmt::join(it->columns, ", "), it->unique ? ", unique" : "",
          it->type == "btree" ? "" : ", " + it->type, it->partial ? ", partial" : "",
          fmt::join(canonical_columns(definition), ", "), definition.unique ? ", unique" : "",
          definition.type == IndexType::btree ? "" : ", " + std::string(to_string(definition.type)),
          definition.where.empty() ? "" : ", partial"));
    }
    return {
        .target = target.name, .index = name, .action = IndexAction::already_present, .sql = {}};
  }
  if (it != existing.end()) {
    // Left invalid by a failed concurrent build: it slows writes and serves no reads. Rebuild.
    const std::string drop =
        drop_sql(dialect, {.schema = it->schema, .name = name}, definition.concurrently);
    run_ddl(*lease, drop);
    change.action = IndexAction::rebuilt;
    change.sql = drop + "; " + create;
  }
  run_ddl(*lease, create);
  spdlog::debug("index {} {} on {}", name, to_string(change.action), target.name);
  return change;
}

IndexChange drop_on(IndexTarget& target, std::string_view name, DropIndexOptions options) {
  Lease lease = target.database.connection();
  const detail::QualifiedName qualified = detail::split_qualified(name);
  validate_identifier(qualified.name);
  const auto existing = detail::read_indexes(*lease, target.name, {}, qualified.schema);
  const bool present = std::any_of(existing.begin(), existing.end(), [&](const IndexInfo& i) {
    return i.name == qualified.name && (qualified.schema.empty() || i.schema == qualified.schema);
  });
  if (!present)
    return {
        .target = target.name, .index = qualified.name, .action = IndexAction::absent, .sql = {}};
  const std::string sql = drop_sql(lease->dialect(), qualified, options.concurrently);
  run_ddl(*lease, sql);
  spdlog::debug("index {} dropped on {}", qualified.name, target.name);
  return {
      .target = target.name, .index = qualified.name, .action = IndexAction::dropped, .sql = sql};
}

/// PgHero's rule: `index` is covered when another valid index of the same table, method and
/// predicate starts with its columns.
std::vector<DuplicateIndex> duplicates_in(const std::vector<IndexInfo>& indexes, Dialect dialect) {
  std::vector<DuplicateIndex> out;
  for (const IndexInfo& index : indexes) {
    if (!index.valid || index.primary || index.unique) continue;
    for (const IndexInfo& other : indexes) {
      if (&other == &index || !other.valid || other.table != index.table ||
          other.schema != index.schema || other.type != index.type || other.partial ||
          index.partial) {
        continue;
      }
      if (other.columns.size() < index.columns.size() ||
          !std::equal(index.columns.begin(), index.columns.end(), other.columns.begin())) {
        continue;
      }
      // Identical twins: report one of them (the later name), unless the other enforces something.
      const bool identical = other.columns == index.columns;
      if (identical && !(other.unique || other.primary) && index.name < other.name) continue;
      out.push_back(
          {.unneeded = index,
           .covering = other,
           .drop_sql = drop_sql(
               dialect,
               {.schema = dialect == Dialect::postgres ? index.schema : "", .name = index.name},
               false)});
      break;
    }
  }
  return out;
}

bool looks_like_uri(std::string_view name) { return name.find(':') != std::string_view::npos; }

/// A cluster's primary, with its replicas (their index usage counts for unused()).
IndexTarget target_of(const ClusterConfig& cluster) {
  IndexTarget target{
      .name = cluster.name,
      .database = Database::open(DatabaseSettings{
          .connection = cluster.connect_options(cluster.primary), .pool = cluster.pool}),
      .replicas = {}};
  for (const std::string& uri : cluster.replicas) {
    target.replicas.push_back(Database::open(
        DatabaseSettings{.connection = cluster.connect_options(uri), .pool = cluster.pool}));
  }
  return target;
}

/// Shard-map values that are URIs rather than cluster names: a target each ("shard-N", N the
/// first shard it holds), once however many shards it holds.
void add_uri_shards(std::vector<IndexTarget>& targets, const ShardConfig& shards) {
  std::vector<std::string> seen;
  for (const auto& [shard, name] : shards.shard_map) {
    const bool known = std::any_of(targets.begin(), targets.end(), [&](const IndexTarget& t) {
      return t.name == name || t.database.description() == name;
    });
    if (known || !looks_like_uri(name) || std::find(seen.begin(), seen.end(), name) != seen.end())
      continue;
    seen.push_back(name);
    targets.push_back(IndexTarget{
        .name = fmt::format("shard-{}", shard), .database = Database::open(name), .replicas = {}});
  }
}

}  // namespace

IndexManager::IndexManager(Database database) {
  std::string name = database.description();
  targets_.push_back(
      IndexTarget{.name = std::move(name), .database = std::move(database), .replicas = {}});
}

IndexManager::IndexManager(std::vector<IndexTarget> targets) : targets_(std::move(targets)) {
  if (targets_.empty()) throw UsageError("IndexManager needs at least one target database");
}

IndexManager IndexManager::from_config(const Config& config) {
  std::vector<IndexTarget> targets;
  for (const ClusterConfig& cluster : config.clusters) targets.push_back(target_of(cluster));
  // Shards are clusters of [clusters]; a shard map built in code may also name a URI directly.
  add_uri_shards(targets, config.shards);
  return IndexManager(std::move(targets));
}

IndexManager IndexManager::for_shards(const ShardConfig& shards,
                                      std::vector<ClusterConfig> clusters) {
  if (!shards.enabled()) throw ConfigError("IndexManager::for_shards: the shard map is empty");
  const bool all_uris = std::all_of(shards.shard_map.begin(), shards.shard_map.end(),
                                    [](const auto& entry) { return looks_like_uri(entry.second); });
  if (clusters.empty() && !all_uris) clusters = Config::load_default().clusters;
  std::vector<IndexTarget> targets;
  for (const auto& [shard, name] : shards.shard_map) {
    const bool known = std::any_of(targets.begin(), targets.end(),
                                   [&](const IndexTarget& t) { return t.name == name; });
    if (known) continue;
    auto it = std::find_if(clusters.begin(), clusters.end(),
                           [&](const ClusterConfig& c) { return c.name == name; });
    if (it != clusters.end()) {
      targets.push_back(target_of(*it));
    } else if (!looks_like_uri(name)) {
      throw ConfigError(
          fmt::format("shard map: no cluster '{}' for shard {}; define it in [clusters] or give a "
                      "connection URI",
                      name, shard));
    }
  }
  add_uri_shards(targets, shards);
  return IndexManager(std::move(targets));
}

std::vector<IndexChange> IndexManager::create_index(const IndexDefinition& definition) {
  std::vector<IndexChange> changes;
  for_each_target(targets_, fmt::format("creating index {}", definition.index_name()),
                  [&](IndexTarget& target) { changes.push_back(create_on(target, definition)); });
  return changes;
}

std::vector<IndexChange> IndexManager::drop_index(std::string_view name, DropIndexOptions options) {
  std::vector<IndexChange> changes;
  for_each_target(targets_, fmt::format("dropping index {}", name),
                  [&](IndexTarget& target) { changes.push_back(drop_on(target, name, options)); });
  return changes;
}

std::vector<IndexInfo> IndexManager::list(std::string_view table) {
  std::vector<IndexInfo> out;
  for_each_target(targets_, "listing indexes", [&](IndexTarget& target) {
    Lease lease = target.database.connection();
    auto indexes = detail::read_indexes(*lease, target.name, table);
    out.insert(out.end(), std::make_move_iterator(indexes.begin()),
               std::make_move_iterator(indexes.end()));
  });
  return out;
}

std::vector<IndexInfo> IndexManager::unused() {
  std::vector<IndexInfo> out;
  for_each_target(targets_, "finding unused indexes", [&](IndexTarget& target) {
    if (target.database.dialect() != Dialect::postgres) {
      throw UsageError(
          "SQLite keeps no index usage statistics, so unused indexes cannot be found there");
    }
    auto indexes = [&] {
      Lease lease = target.database.connection();
      return detail::read_indexes(*lease, target.name);
    }();
    // Reads on replicas count: an index only they use is not unused.
    std::map<std::string, std::int64_t> replica_scans;
    for (Database& replica : target.replicas) {
      Lease lease = replica.connection();
      for (auto& [name, scans] : detail::read_index_scans(*lease)) replica_scans[name] += scans;
    }
    for (IndexInfo& index : indexes) {
      const std::int64_t scans =
          index.scans.value_or(0) + replica_scans[index.schema + "." + index.name];
      if (scans != 0 || index.unique || index.primary || index.backs_constraint || !index.valid)
        continue;
      index.scans = scans;
      out.push_back(std::move(index));
    }
  });
  return out;
}

std::vector<DuplicateIndex> IndexManager::duplicates() {
  std::vector<DuplicateIndex> out;
  for_each_target(targets_, "finding duplicate indexes", [&](IndexTarget& target) {
    Lease lease = target.database.connection();
    auto found = duplicates_in(detail::read_indexes(*lease, target.name), lease->dialect());
    out.insert(out.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  });
  return out;
}

std::vector<IndexInfo> IndexManager::invalid() {
  std::vector<IndexInfo> out;
  for (IndexInfo& index : list()) {
    if (!index.valid) out.push_back(std::move(index));
  }
  return out;
}

}  // namespace nexdb
