// The optimizer's bookkeeping: one Shape per fingerprint, found by SQL text on the hot path
// (a hash lookup under a shared lock and a few relaxed atomics per call).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nexdb/optimizer.hpp"
#include "optimizer/query_facts.hpp"

namespace nexdb::detail {

using Generation = std::atomic<std::uint64_t>;

/// One counter per table name, bumped by writes; cached results remember the values they saw.
class TableGenerations {
 public:
  /// The counter of `table` (stable for the registry's lifetime).
  Generation* of(const std::string& table);
  /// Bumped by invalidate_all() and by writes whose tables are unknown.
  Generation& all() noexcept { return all_; }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Generation>> tables_;
  Generation all_{0};
};

struct Shape {
  std::string fingerprint{};
  std::string sql{};
  QueryFacts facts{};
  std::vector<Generation*> reads{};   // generations of the tables it reads
  std::vector<Generation*> writes{};  // bumped after it runs
  bool writes_unknown = false;

  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> total_ns{0};
  std::atomic<std::uint64_t> max_ns{0};
  // Plan checks: when (steady ns, 0 = never) and in which schema epoch; one checker at a time.
  std::atomic<std::int64_t> checked_at_ns{0};
  std::atomic<std::uint64_t> checked_epoch{0};
  std::atomic<bool> checking{false};

  mutable std::mutex mutex;  // guards the members below
  Statement sample{};        // the slowest call's statement, values included (never logged)
  std::optional<Plan> plan{};
  std::vector<PlanFinding> findings{};
  std::string plan_error{};
};

class ShapeRegistry {
 public:
  ShapeRegistry(Dialect dialect, std::size_t max_texts, TableGenerations& generations)
      : dialect_(dialect), max_texts_(max_texts), generations_(generations) {}

  /// The shape of `sql`, analysed on first sight; nullptr when max_texts are tracked already.
  Shape* find_or_add(std::string_view sql);
  /// Every shape, for reports (the pointers stay valid for the registry's lifetime).
  std::vector<Shape*> all() const;

 private:
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept;
  };
  Shape* add(std::string_view sql);

  Dialect dialect_;
  std::size_t max_texts_;
  TableGenerations& generations_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Shape*, SqlHash, std::equal_to<>> texts_;
  std::unordered_map<std::string, std::unique_ptr<Shape>> by_fingerprint_;
};

/// Records one finished call on its shape.
void record_call(Shape& shape, const Statement& statement, std::chrono::nanoseconds elapsed,
                 std::uint64_t rows, bool failed);

}  // namespace nexdb::detail
