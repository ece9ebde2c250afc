// Final assembly of a statement: clause texts joined, each parameter marker replaced by the
// dialect's placeholder ($1, $2, ... or ?), the values moved or copied alongside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/query/fragment.hpp"
#include "nexdb/value.hpp"

namespace nexdb::detail {

class SqlWriter {
 public:
  explicit SqlWriter(Dialect dialect) : dialect_(dialect) {}

  /// Room for a statement of about `size` bytes.
  void reserve_text(std::size_t size) { sql_.reserve(size); }
  /// Starts the statement with `head` and `head2` followed by `marked` (text with parameter
  /// markers), reusing `marked`'s buffer: markers become placeholders in place, so a builder
  /// rendered as a temporary hands its text over without a copy. Only for an empty writer.
  /// `markers` lists the markers' positions in `marked` (`count` of them), or is null for
  /// marked text to be searched. False, leaving `marked` alone, when it has more than
  /// kMaxAdoptedMarkers markers.
  bool adopt_marked(std::string&& marked, std::string_view head, std::string_view head2,
                    const std::uint32_t* markers = nullptr, std::size_t count = 0);
  static constexpr std::size_t kMaxAdoptedMarkers = 32;

  /// Text without parameter markers: keywords and quoted identifiers.
  void text(std::string_view sql) { sql_.append(sql); }
  /// Text whose parameter markers become placeholders.
  void marked_text(std::string_view sql);
  /// The values of marked text just written, unless the values were adopted up front.
  void values(const Value* values, std::size_t count, bool move);
  /// A placeholder bound to `value`, after everything else.
  void param(Value value);
  /// Room for `count` values, when they are written one by one.
  void reserve_params(std::size_t count) { params_.reserve(count); }
  /// Every value of the statement at once, already in order (moved when `move`), with room
  /// for a LIMIT and an OFFSET after them; values() becomes a no-op.
  void adopt(const Value* values, std::size_t count, bool move);
  void adopt(std::vector<Value>&& values);

  Statement finish() &&;

 private:
  void placeholder();

  Dialect dialect_;
  std::string sql_;
  std::vector<Value> params_;
  unsigned next_ = 1;
  bool adopted_ = false;
};

}  // namespace nexdb::detail
