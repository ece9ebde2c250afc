#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "driver/schema_epoch.hpp"
#include "nexdb/error.hpp"
#include "nexdb/optimizer.hpp"
#include "optimizer/result_cache.hpp"
#include "optimizer/shapes.hpp"

namespace nexdb {
namespace detail {

struct OptimizerState {
  OptimizerState(Database db, OptimizerSettings s)
      : database(std::move(db)),
        settings(s),
        dialect(database.dialect()),
        shapes(dialect, s.max_shapes, generations),
        cache(s.result_cache_entries, s.result_cache_bytes) {}

  Database database;
  OptimizerSettings settings;
  Dialect dialect;
  TableGenerations generations;
  ShapeRegistry shapes;
  ResultCache cache;
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> untracked{0};
  std::atomic<std::uint64_t> plan_checks{0};
  std::atomic<std::uint64_t> plan_check_errors{0};
};

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ticks(Clock::time_point t) {
  // Never 0, which marks "not checked yet".
  return std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

bool starts_with_select(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  std::string word;
  while (i < sql.size() && word.size() < 6 && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
  }
  return word == "SELECT";
}

/// After a statement that may have written: later cache lookups of what it touched miss.
void note_writes(OptimizerState& state, const Shape* shape, std::string_view sql) {
  if (shape == nullptr) {
    if (!starts_with_select(sql)) state.generations.all().fetch_add(1, std::memory_order_acq_rel);
    return;
  }
  if (shape->writes_unknown) state.generations.all().fetch_add(1, std::memory_order_acq_rel);
  for (Generation* g : shape->writes) g->fetch_add(1, std::memory_order_acq_rel);
}

GenerationSnapshot snapshot_of(OptimizerState& state, const Shape& shape) {
  GenerationSnapshot snapshot;
  snapshot.reserve(shape.reads.size() + 1);
  snapshot.emplace_back(&state.generations.all(),
                        state.generations.all().load(std::memory_order_acquire));
  for (Generation* g : shape.reads) snapshot.emplace_back(g, g->load(std::memory_order_acquire));
  return snapshot;
}

bool checkable(const Shape& shape) {
  return shape.facts.parsed && shape.facts.kind != QueryFacts::Kind::other;
}

/// Never checked, checked before the last schema change made here, or long ago.
bool stale(const OptimizerState& state, const Shape& shape, Clock::time_point now) {
  const std::int64_t checked = shape.checked_at_ns.load(std::memory_order_acquire);
  return checked == 0 || shape.checked_epoch.load(std::memory_order_acquire) != plan_epoch() ||
         ticks(now) - checked >= std::chrono::nanoseconds(state.settings.recheck_after).count();
}

/// True when this call should check the shape's plan; claims the check for this thread.
bool claim_check(OptimizerState& state, Shape& shape, std::chrono::nanoseconds elapsed,
                 Clock::time_point now) {
  const OptimizerSettings& s = state.settings;
  if (!s.plan_checks || !checkable(shape)) return false;
  const bool hot = shape.calls.load(std::memory_order_relaxed) >= s.plan_check_after_calls ||
                   elapsed >= s.slow_query;
  if (!hot) return false;
  if (!stale(state, shape, now)) return false;
  bool expected = false;
  if (!shape.checking.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
    return false;
  // Another thread may have finished a check between the test and the claim.
  if (stale(state, shape, now)) return true;
  shape.checking.store(false, std::memory_order_release);
  return false;
}

/// EXPLAIN with the slowest call's values, then the findings; errors are kept, never thrown.
void check_shape(OptimizerState& state, Shape& shape, Connection& connection) {
  Statement sample;
  {
    std::lock_guard lock(shape.mutex);
    sample = shape.sample;
  }
  const std::uint64_t epoch = plan_epoch();
  std::optional<Plan> plan;
  std::vector<PlanFinding> findings;
  std::string error;
  try {
    if (sample.sql.empty()) sample.sql = shape.sql;
    plan = explain(connection, sample);
    findings = check_plan(connection, *plan, state.settings.plan_check);
  } catch (const std::exception& e) {
    error = e.what();
    state.plan_check_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("plan check of {} failed: {}", shape.fingerprint, error);
  }
  state.plan_checks.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(shape.mutex);
    shape.plan = std::move(plan);
    shape.findings = std::move(findings);
    shape.plan_error = std::move(error);
  }
  shape.checked_epoch.store(epoch, std::memory_order_relaxed);
  shape.checked_at_ns.store(ticks(Clock::now()), std::memory_order_relaxed);
  shape.checking.store(false, std::memory_order_release);
}

ShapeReport report_of(const Shape& shape) {
  ShapeReport r{.fingerprint = shape.fingerprint, .sql = shape.sql};
  r.calls = shape.calls.load(std::memory_order_relaxed);
  r.errors = shape.errors.load(std::memory_order_relaxed);
  r.cache_hits = shape.cache_hits.load(std::memory_order_relaxed);
  r.rows = shape.rows.load(std::memory_order_relaxed);
  r.total_time = std::chrono::nanoseconds(shape.total_ns.load(std::memory_order_relaxed));
  r.max_time = std::chrono::nanoseconds(shape.max_ns.load(std::memory_order_relaxed));
  r.tables = shape.facts.tables_read;
  std::lock_guard lock(shape.mutex);
  r.plan = shape.plan;
  r.findings = shape.findings;
  r.plan_error = shape.plan_error;
  return r;
}

}  // namespace
}  // namespace detail

QueryOptimizer::QueryOptimizer(Database database, OptimizerSettings settings)
    : state_(std::make_shared<detail::OptimizerState>(std::move(database), settings)) {}

Rows QueryOptimizer::run(const Statement& statement, QueryOptions options) {
  using namespace detail;
  OptimizerState& state = *state_;
  state.queries.fetch_add(1, std::memory_order_relaxed);
  Shape* shape = state.shapes.find_or_add(statement.sql);
  if (shape == nullptr) {
    state.untracked.fetch_add(1, std::memory_order_relaxed);
    Rows rows = state.database.execute(statement);
    note_writes(state, nullptr, statement.sql);
    return rows;
  }

  const bool cacheable =
      options.cache_ttl.count() > 0 && state.cache.enabled() && shape->facts.cacheable();
  std::string key;
  GenerationSnapshot snapshot;
  if (cacheable) {
    key = ResultCache::key_of(statement);
    if (auto hit = state.cache.get(key, Clock::now())) {
      shape->cache_hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*hit);
    }
    snapshot =
        snapshot_of(state, *shape);  // before the query: a write racing it makes the entry stale
  }

  Lease lease = state.database.connection();
  const auto start = Clock::now();
  Rows rows;
  try {
    rows = lease->execute(statement);
  } catch (...) {
    record_call(*shape, statement, Clock::now() - start, 0, true);
    note_writes(state, shape, statement.sql);
    throw;
  }
  const auto end = Clock::now();
  const auto count =
      rows.empty() ? static_cast<std::uint64_t>(std::max<std::int64_t>(rows.affected_rows(), 0))
                   : rows.size();
  record_call(*shape, statement, end - start, count, false);
  note_writes(state, shape, statement.sql);
  if (cacheable)
    state.cache.put(std::move(key), rows, end + options.cache_ttl, std::move(snapshot));
  if (claim_check(state, *shape, end - start, end)) check_shape(state, *shape, *lease);
  return rows;
}

Plan QueryOptimizer::explain(const Statement& statement) {
  Lease lease = state_->database.connection();
  return nexdb::explain(*lease, statement);
}

std::vector<ShapeReport> QueryOptimizer::shapes() const {
  std::vector<ShapeReport> out;
  for (const detail::Shape* shape : state_->shapes.all()) out.push_back(detail::report_of(*shape));
  std::sort(out.begin(), out.end(),
            [](const ShapeReport& a, const ShapeReport& b) { return a.total_time > b.total_time; });
  return out;
}

void QueryOptimizer::check_plans() {
  Lease lease = state_->database.connection();
  for (detail::Shape* shape : state_->shapes.all()) {
    if (!detail::checkable(*shape) || shape->calls.load(std::memory_order_relaxed) == 0) continue;
    bool expected = false;
    if (!shape->checking.compare_exchange_strong(expected, true))
      continue;  // another thread is on it
    detail::check_shape(*state_, *shape, *lease);
  }
}

std::vector<IndexSuggestion> QueryOptimizer::suggest_indexes() {
  // Shapes never checked get their check now, so that findings are current.
  {
    Lease lease = state_->database.connection();
    for (detail::Shape* shape : state_->shapes.all()) {
      if (!detail::checkable(*shape) || shape->checked_at_ns.load() != 0) continue;
      bool expected = false;
      if (shape->checking.compare_exchange_strong(expected, true))
        detail::check_shape(*state_, *shape, *lease);
    }
  }
  std::vector<WorkloadQuery> workload;
  for (const ShapeReport& r : shapes()) {
    const bool worth = !r.findings.empty() || r.mean_time() >= state_->settings.slow_query;
    if (!worth || r.calls == 0) continue;
    detail::Shape* shape = state_->shapes.find_or_add(r.sql);
    if (shape == nullptr) continue;
    std::lock_guard lock(shape->mutex);
    workload.push_back(
        {.statement = shape->sample.sql.empty() ? Statement{r.sql, {}} : shape->sample,
         .calls = r.calls,
         .generic = false});
  }
  if (workload.empty()) return {};
  return IndexAdvisor(state_->database, state_->settings.advice).suggest(workload);
}

void QueryOptimizer::invalidate(std::string_view table) {
  state_->generations.of(std::string(table))->fetch_add(1, std::memory_order_acq_rel);
}

void QueryOptimizer::invalidate_all() {
  state_->generations.all().fetch_add(1, std::memory_order_acq_rel);
  state_->cache.clear();
}

OptimizerStats QueryOptimizer::stats() const {
  const auto cache = state_->cache.stats();
  OptimizerStats s{.queries = state_->queries.load(),
                   .shapes = 0,
                   .untracked = state_->untracked.load(),
                   .plan_checks = state_->plan_checks.load(),
                   .plan_check_errors = state_->plan_check_errors.load(),
                   .findings = 0,
                   .cache_hits = cache.hits,
                   .cache_misses = cache.misses,
                   .cache_entries = cache.entries,
                   .cache_bytes = cache.bytes,
                   .cache_evictions = cache.evictions,
                   .cache_invalidations = cache.invalidations};
  for (const detail::Shape* shape : state_->shapes.all()) {
    ++s.shapes;
    std::lock_guard lock(shape->mutex);
    s.findings += shape->findings.size();
  }
  return s;
}

Dialect QueryOptimizer::dialect() const noexcept { return state_->dialect; }
Database& QueryOptimizer::database() noexcept { return state_->database; }
const OptimizerSettings& QueryOptimizer::settings() const noexcept { return state_->settings; }

}  // namespace nexdb
