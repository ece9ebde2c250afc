// PostgreSQL's parse tree (libpg_query, as protobuf-c structs) and token stream of one SQL text,
// with the helpers routing and query rewriting need. Private to src/shard.
#pragma once

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb::shard_detail {

using Node = PgQuery__Node;

/// One token of the text, comments excluded. `depth` counts the ( and [ open before it.
struct Token {
  int start = 0;
  int end = 0;
  int kind = 0;  // PgQuery__Token
  int depth = 0;
};

/// A half-open range of token indexes [first, last).
struct Span {
  std::size_t first = 0;
  std::size_t last = 0;
  bool empty() const noexcept { return first >= last; }
};

class ParsedSql {
 public:
  /// Parses and scans `text`; SqlError (42601) naming the position of a syntax error.
  explicit ParsedSql(std::string text);
  ~ParsedSql();
  ParsedSql(const ParsedSql&) = delete;
  ParsedSql& operator=(const ParsedSql&) = delete;

  const std::string& text() const noexcept { return text_; }
  std::size_t statement_count() const noexcept { return tree_->n_stmts; }
  /// The first statement.
  const Node* statement() const noexcept { return tree_->stmts[0]->stmt; }
  const std::vector<Token>& tokens() const noexcept { return tokens_; }

  std::string_view token_text(std::size_t i) const;
  /// Source text from the start of token `first` to the end of token `last - 1`.
  std::string_view span_text(Span span) const;
  /// Tokens joined by single spaces, unquoted words lower-cased: equal for two spellings of the
  /// same expression ("COUNT( * )" and "count(*)").
  std::string canonical(Span span) const;
  /// The index of the token starting at byte `location`; npos when there is none.
  std::size_t token_at(int location) const;
  /// The index of the ) closing the ( at or after `from`; npos when unbalanced.
  std::size_t closing_paren(std::size_t from) const;

 private:
  std::string text_;
  PgQuery__ParseResult* tree_ = nullptr;
  std::vector<Token> tokens_;
};

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// Calls `visit(node)` for every Node below `message`, depth first; a visit that returns false
/// skips that node's children.
template <class Visit>
void walk(const ProtobufCMessage* message, Visit&& visit);

/// The text of a String node; empty for other nodes.
std::string_view string_of(const Node* node);
/// The last element of a name list (funcname ["pg_catalog", "count"] -> "count").
std::string_view last_name(Node* const* names, std::size_t count);
/// A constant as a Value: integers (also those that overflow int32 and arrive as Float),
/// floats, strings, booleans and NULL. nullopt for other constants.
std::optional<Value> constant_value(const PgQuery__AConst* constant);
/// Strips type casts: '42'::bigint and CAST($1 AS bigint) are their argument.
const Node* without_casts(const Node* node);
/// ASCII lower-case comparison.
bool same_name(std::string_view a, std::string_view b) noexcept;

// ---------------------------------------------------------------------------------------------

namespace walk_detail {
void for_each_child(const ProtobufCMessage* message, void (*callback)(const Node*, void*),
                    void* context);
}

template <class Visit>
void walk(const ProtobufCMessage* message, Visit&& visit) {
  using V = std::remove_reference_t<Visit>;
  walk_detail::for_each_child(
      message,
      [](const Node* node, void* raw) {
        V& f = *static_cast<V*>(raw);
        if (f(node)) walk(&node->base, f);
      },
      const_cast<void*>(static_cast<const void*>(&visit)));
}

}  // namespace nexdb::shard_detail
