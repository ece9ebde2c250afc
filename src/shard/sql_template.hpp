// SQL text with its parameters as numbered slots: pieces of a statement are cut and joined
// (hidden columns added, a LIMIT pushed down, VALUES rows split by shard) and then rendered with
// the parameters that are still used, renumbered in order, for either dialect.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "nexdb/value.hpp"
#include "shard/sql_tree.hpp"

namespace nexdb::shard_detail {

/// Slots >= 0 are the statement's own parameters (0-based); these stand for computed values.
inline constexpr int kPushedLimitSlot = -2;

class SqlTemplate {
 public:
  void text(std::string_view text);
  void slot(int slot);
  /// The source text of tokens [span) of `sql`, its $n parameters as slots n - 1.
  void append(const ParsedSql& sql, Span span);
  void append(const SqlTemplate& other);
  bool empty() const noexcept { return pieces_.empty(); }

  /// The statement for `dialect` ($1.. or ?1..), with `value(slot)` bound for each slot in
  /// order of first appearance.
  Statement render(Dialect dialect, const std::function<Value(int)>& value) const;

 private:
  static constexpr int kText = std::numeric_limits<int>::min();
  struct Piece {
    std::string text{};
    int slot = kText;  // kText: text only
  };
  std::vector<Piece> pieces_;
};

}  // namespace nexdb::shard_detail
