#include "shard/sql_template.hpp"

#include <charconv>
#include <map>

namespace nexdb::shard_detail {

void SqlTemplate::text(std::string_view text) {
  if (text.empty()) return;
  if (!pieces_.empty() && pieces_.back().slot == kText) {
    pieces_.back().text += text;
  } else {
    pieces_.push_back({std::string(text), kText});
  }
}

void SqlTemplate::slot(int slot) { pieces_.push_back({{}, slot}); }

void SqlTemplate::append(const ParsedSql& sql, Span span) {
  if (span.empty()) return;
  const auto& tokens = sql.tokens();
  int from = tokens[span.first].start;
  for (std::size_t i = span.first; i < span.last; ++i) {
    if (tokens[i].kind != PG_QUERY__TOKEN__PARAM) continue;
    text(std::string_view(sql.text())
             .substr(static_cast<std::size_t>(from),
                     static_cast<std::size_t>(tokens[i].start - from)));
    const std::string_view digits = sql.token_text(i).substr(1);
    int number = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), number);
    slot(number - 1);
    from = tokens[i].end;
  }
  const int end = tokens[span.last - 1].end;
  text(std::string_view(sql.text())
           .substr(static_cast<std::size_t>(from), static_cast<std::size_t>(end - from)));
}

void SqlTemplate::append(const SqlTemplate& other) {
  for (const Piece& piece : other.pieces_) {
    if (piece.slot == kText) {
      text(piece.text);
    } else {
      slot(piece.slot);
    }
  }
}

Statement SqlTemplate::render(Dialect dialect, const std::function<Value(int)>& value) const {
  Statement out;
  std::map<int, int> numbers;  // slot -> its number in the rendered statement
  for (const Piece& piece : pieces_) {
    if (piece.slot == kText) {
      out.sql += piece.text;
      continue;
    }
    auto [it, fresh] = numbers.emplace(piece.slot, static_cast<int>(numbers.size()) + 1);
    if (fresh) out.params.push_back(value(piece.slot));
    out.sql += dialect == Dialect::postgres ? '$' : '?';
    out.sql += std::to_string(it->second);
  }
  return out;
}

}  // namespace nexdb::shard_detail
