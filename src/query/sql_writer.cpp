#include "query/sql_writer.hpp"

#include <charconv>
#include <cstring>
#include <string>

#include "nexdb/query/fragment.hpp"

namespace nexdb::detail {

void SqlWriter::marked_text(std::string_view rest) {
  for (std::size_t pos; (pos = rest.find(kParamMarker)) != std::string_view::npos;) {
    sql_.append(rest.data(), pos);
    placeholder();
    rest.remove_prefix(pos + 1);
  }
  sql_.append(rest);
}

namespace {
// memmove that accepts the null pointer of an empty string_view.
void move_bytes(char* to, const char* from, std::size_t count) {
  if (count > 0) std::memmove(to, from, count);
}

std::size_t digits(unsigned n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Writes `$n` at `out` (room for 11 bytes) and returns its length; small numbers, by far the
// commonest, without the general conversion.
std::size_t write_dollar(char* out, unsigned n) {
  out[0] = '$';
  if (n < 10) {
    out[1] = static_cast<char>('0' + n);
    return 2;
  }
  return static_cast<std::size_t>(std::to_chars(out + 1, out + 11, n).ptr - out);
}
}  // namespace

bool SqlWriter::adopt_marked(std::string&& marked, std::string_view head, std::string_view head2,
                             const std::uint32_t* listed, std::size_t count) {
  // Marker positions: as the builder listed them, or found forwards with memchr. Statements
  // with many values take the ordinary path.
  std::size_t positions[kMaxAdoptedMarkers];
  std::size_t markers = 0;
  if (listed != nullptr) {
    if (count > kMaxAdoptedMarkers) return false;
    for (; markers < count; ++markers) positions[markers] = listed[markers];
  } else {
    for (std::size_t pos = marked.find(kParamMarker); pos != std::string::npos;
         pos = marked.find(kParamMarker, pos + 1)) {
      if (markers == kMaxAdoptedMarkers) return false;
      positions[markers++] = pos;
    }
  }
  std::size_t grow = 0;
  if (dialect_ == Dialect::postgres) {
    for (std::size_t m = 0; m < markers; ++m) grow += digits(next_ + static_cast<unsigned>(m));
  }
  const std::size_t old_size = marked.size();
  sql_ = std::move(marked);
  sql_.resize(head.size() + head2.size() + old_size + grow);
  // Right to left: move each run of text to its final place, writing placeholders between.
  char* const data = sql_.data();
  std::size_t read = old_size;
  std::size_t write = sql_.size();
  for (std::size_t m = markers; m-- > 0;) {
    const std::size_t run = read - positions[m] - 1;
    write -= run;
    move_bytes(data + write, data + positions[m] + 1, run);
    read = positions[m];
    if (dialect_ == Dialect::sqlite) {
      data[--write] = '?';
    } else {
      char placeholder[11];
      const std::size_t length = write_dollar(placeholder, next_ + static_cast<unsigned>(m));
      write -= length;
      move_bytes(data + write, placeholder, length);
    }
  }
  move_bytes(data + write - read, data, read);
  move_bytes(data, head.data(), head.size());
  move_bytes(data + head.size(), head2.data(), head2.size());
  next_ += static_cast<unsigned>(markers);
  return true;
}

void SqlWriter::values(const Value* values, std::size_t count, bool move) {
  if (adopted_) return;
  for (std::size_t i = 0; i < count; ++i) {
    // Moving is only asked for when the caller owns the values (an rvalue builder).
    if (move) {
      params_.push_back(std::move(const_cast<Value&>(values[i])));
    } else {
      params_.push_back(values[i]);
    }
  }
}

void SqlWriter::param(Value value) {
  placeholder();
  params_.push_back(std::move(value));
}

void SqlWriter::adopt(const Value* values, std::size_t count, bool move) {
  params_.reserve(count + 2);
  this->values(values, count, move);
  adopted_ = true;
}

void SqlWriter::adopt(std::vector<Value>&& values) {
  params_ = std::move(values);
  params_.reserve(params_.size() + 2);
  adopted_ = true;
}

Statement SqlWriter::finish() && {
  Statement statement;
  statement.sql = std::move(sql_);
  statement.params = std::move(params_);
  return statement;
}

void SqlWriter::placeholder() {
  if (dialect_ == Dialect::sqlite) {
    sql_.push_back('?');
    ++next_;
    return;
  }
  char buffer[11];
  sql_.append(buffer, write_dollar(buffer, next_++));
}

}  // namespace nexdb::detail
