#define XXH_INLINE_ALL
#include "optimizer/shapes.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include "nexdb/sql_text.hpp"

namespace nexdb::detail {
namespace {

std::string fingerprint_of(std::string_view sql, Dialect dialect) {
  const std::string text =
      dialect == Dialect::sqlite ? with_dollar_placeholders(sql) : std::string(sql);
  if (auto fp = sql::try_fingerprint(text)) return fp->hex;
  // SQL PostgreSQL's grammar rejects (SQLite-only syntax): the shape of its normalised text.
  const std::string normalised = sql::normalize_any(sql);
  return fmt::format("{:016x}", XXH3_64bits(normalised.data(), normalised.size()));
}

}  // namespace

Generation* TableGenerations::of(const std::string& table) {
  std::lock_guard lock(mutex_);
  auto& slot = tables_[table];
  if (!slot) slot = std::make_unique<Generation>(0);
  return slot.get();
}

std::size_t ShapeRegistry::SqlHash::operator()(std::string_view text) const noexcept {
  return static_cast<std::size_t>(XXH3_64bits(text.data(), text.size()));
}

Shape* ShapeRegistry::find_or_add(std::string_view sql) {
  {
    std::shared_lock lock(mutex_);
    auto it = texts_.find(sql);
    if (it != texts_.end()) return it->second;
    if (texts_.size() >= max_texts_) return nullptr;
  }
  return add(sql);
}

Shape* ShapeRegistry::add(std::string_view sql) {
  // Parsing is the expensive part: done outside the lock, once per new text.
  std::string fingerprint = fingerprint_of(sql, dialect_);
  QueryFacts facts = analyze_statement(sql, dialect_);
  std::unique_lock lock(mutex_);
  if (auto it = texts_.find(sql); it != texts_.end()) return it->second;
  if (texts_.size() >= max_texts_) return nullptr;
  auto& owned = by_fingerprint_[fingerprint];
  if (!owned) {
    owned = std::make_unique<Shape>();
    owned->fingerprint = std::move(fingerprint);
    owned->sql = std::string(sql);
    for (const std::string& table : facts.tables_read)
      owned->reads.push_back(generations_.of(table));
    for (const std::string& table : facts.tables_written)
      owned->writes.push_back(generations_.of(table));
    owned->writes_unknown = facts.writes_unknown;
    owned->facts = std::move(facts);
  }
  texts_.emplace(std::string(sql), owned.get());
  return owned.get();
}

std::vector<Shape*> ShapeRegistry::all() const {
  std::shared_lock lock(mutex_);
  std::vector<Shape*> out;
  out.reserve(by_fingerprint_.size());
  for (const auto& [fingerprint, shape] : by_fingerprint_) out.push_back(shape.get());
  return out;
}

void record_call(Shape& shape, const Statement& statement, std::chrono::nanoseconds elapsed,
                 std::uint64_t rows, bool failed) {
  const auto ns = static_cast<std::uint64_t>(elapsed.count());
  shape.calls.fetch_add(1, std::memory_order_relaxed);
  shape.total_ns.fetch_add(ns, std::memory_order_relaxed);
  shape.rows.fetch_add(rows, std::memory_order_relaxed);
  if (failed) shape.errors.fetch_add(1, std::memory_order_relaxed);
  // The slowest call's values are the ones worth explaining; copying them is rare.
  std::uint64_t max = shape.max_ns.load(std::memory_order_relaxed);
  while (ns > max && !failed) {
    if (shape.max_ns.compare_exchange_weak(max, ns, std::memory_order_relaxed)) {
      std::lock_guard lock(shape.mutex);
      // A slower call may have won meanwhile: keep its values.
      if (ns >= shape.max_ns.load(std::memory_order_relaxed)) shape.sample = statement;
      break;
    }
  }
}

}  // namespace nexdb::detail
