#include "shard/sql_tree.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "nexdb/error.hpp"

namespace nexdb::shard_detail {
namespace {

[[noreturn]] void syntax_error(const PgQueryError& error, const std::string& sql) {
  std::string message = error.message != nullptr ? error.message : "syntax error";
  if (error.cursorpos > 0) message += fmt::format(" at character {}", error.cursorpos);
  throw_sql_error(std::move(message), {.sqlstate = "42601", .statement = sql});
}

std::vector<Token> scan(const std::string& text) {
  PgQueryScanResult result = pg_query_scan(text.c_str());
  struct Free {
    PgQueryScanResult& r;
    ~Free() { pg_query_free_scan_result(r); }
  } free_result{result};
  if (result.error != nullptr) syntax_error(*result.error, text);
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(
      nullptr, result.pbuf.len, reinterpret_cast<const std::uint8_t*>(result.pbuf.data));
  if (scan == nullptr) throw Error("libpg_query returned an unreadable token stream");
  std::vector<Token> tokens;
  tokens.reserve(scan->n_tokens);
  int depth = 0;
  for (std::size_t i = 0; i < scan->n_tokens; ++i) {
    const PgQuery__ScanToken* t = scan->tokens[i];
    if (t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT)
      continue;
    if (t->token == PG_QUERY__TOKEN__ASCII_41 || t->token == PG_QUERY__TOKEN__ASCII_93) --depth;
    tokens.push_back({t->start, t->end, t->token, depth});
    if (t->token == PG_QUERY__TOKEN__ASCII_40 || t->token == PG_QUERY__TOKEN__ASCII_91) ++depth;
  }
  pg_query__scan_result__free_unpacked(scan, nullptr);
  return tokens;
}

// Identifiers and keywords (the scanner numbers keywords from ABORT_P to just before its modes).
bool is_word(int kind) {
  return kind == PG_QUERY__TOKEN__IDENT ||
         (kind >= PG_QUERY__TOKEN__ABORT_P && kind < PG_QUERY__TOKEN__MODE_TYPE_NAME);
}

}  // namespace

ParsedSql::ParsedSql(std::string text) : text_(std::move(text)) {
  PgQueryProtobufParseResult parsed = pg_query_parse_protobuf(text_.c_str());
  struct Free {
    PgQueryProtobufParseResult& r;
    ~Free() { pg_query_free_protobuf_parse_result(r); }
  } free_result{parsed};
  if (parsed.error != nullptr) syntax_error(*parsed.error, text_);
  tree_ =
      pg_query__parse_result__unpack(nullptr, parsed.parse_tree.len,
                                     reinterpret_cast<const std::uint8_t*>(parsed.parse_tree.data));
  if (tree_ == nullptr) throw Error("libpg_query returned an unreadable parse tree");
  if (tree_->n_stmts == 0) {
    pg_query__parse_result__free_unpacked(tree_, nullptr);
    throw UsageError("empty statement: there is nothing to route", {.statement = text_});
  }
  tokens_ = scan(text_);
}

ParsedSql::~ParsedSql() {
  if (tree_ != nullptr) pg_query__parse_result__free_unpacked(tree_, nullptr);
}

std::string_view ParsedSql::token_text(std::size_t i) const {
  const Token& t = tokens_[i];
  return std::string_view(text_).substr(static_cast<std::size_t>(t.start),
                                        static_cast<std::size_t>(t.end - t.start));
}

std::string_view ParsedSql::span_text(Span span) const {
  if (span.empty()) return {};
  const auto start = static_cast<std::size_t>(tokens_[span.first].start);
  const auto end = static_cast<std::size_t>(tokens_[span.last - 1].end);
  return std::string_view(text_).substr(start, end - start);
}

std::string ParsedSql::canonical(Span span) const {
  std::string out;
  for (std::size_t i = span.first; i < span.last; ++i) {
    if (!out.empty()) out += ' ';
    const std::string_view word = token_text(i);
    if (is_word(tokens_[i].kind) && !word.starts_with('"')) {
      for (char c : word) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += word;
    }
  }
  return out;
}

std::size_t ParsedSql::token_at(int location) const {
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].start == location) return i;
    if (tokens_[i].start > location) break;
  }
  return npos;
}

std::size_t ParsedSql::closing_paren(std::size_t from) const {
  std::size_t open = from;
  while (open < tokens_.size() && tokens_[open].kind != PG_QUERY__TOKEN__ASCII_40) ++open;
  if (open == tokens_.size()) return npos;
  for (std::size_t i = open + 1; i < tokens_.size(); ++i) {
    if (tokens_[i].kind == PG_QUERY__TOKEN__ASCII_41 && tokens_[i].depth == tokens_[open].depth)
      return i;
  }
  return npos;
}

std::string_view string_of(const Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_STRING) return {};
  return node->string->sval;
}

std::string_view last_name(Node* const* names, std::size_t count) {
  return count == 0 ? std::string_view{} : string_of(names[count - 1]);
}

std::optional<Value> constant_value(const PgQuery__AConst* constant) {
  if (constant->isnull) return Value(null);
  switch (constant->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
      return Value(constant->ival->ival);
    case PG_QUERY__A__CONST__VAL_SVAL:
      return Value(std::string(constant->sval->sval));
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
      return Value(static_cast<bool>(constant->boolval->boolval));
    case PG_QUERY__A__CONST__VAL_FVAL: {
      const std::string_view text = constant->fval->fval;
      std::int64_t integer = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
      if (ec == std::errc{} && end == text.data() + text.size()) return Value(integer);
      // Larger than int64 or with a fraction: keep the exact text, as PostgreSQL numerics arrive.
      return Value(std::string(text));
    }
    default:
      return std::nullopt;
  }
}

const Node* without_casts(const Node* node) {
  while (node != nullptr && node->node_case == PG_QUERY__NODE__NODE_TYPE_CAST)
    node = node->type_cast->arg;
  return node;
}

bool same_name(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

namespace walk_detail {

void for_each_child(const ProtobufCMessage* message, void (*callback)(const Node*, void*),
                    void* context) {
  const ProtobufCMessageDescriptor* descriptor = message->descriptor;
  const auto* base = reinterpret_cast<const char*>(message);
  for (unsigned f = 0; f < descriptor->n_fields; ++f) {
    const ProtobufCFieldDescriptor& field = descriptor->fields[f];
    if (field.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if ((field.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
        *reinterpret_cast<const std::uint32_t*>(base + field.quantifier_offset) != field.id) {
      continue;  // another member of the union is set
    }
    auto visit = [&](const ProtobufCMessage* child) {
      if (child == nullptr) return;
      if (child->descriptor == &pg_query__node__descriptor) {
        callback(reinterpret_cast<const Node*>(child), context);
      } else {
        for_each_child(child, callback, context);
      }
    };
    if (field.label == PROTOBUF_C_LABEL_REPEATED) {
      const auto count = *reinterpret_cast<const std::size_t*>(base + field.quantifier_offset);
      const auto* items = *reinterpret_cast<ProtobufCMessage* const* const*>(base + field.offset);
      for (std::size_t i = 0; i < count; ++i) visit(items[i]);
    } else {
      visit(*reinterpret_cast<ProtobufCMessage* const*>(base + field.offset));
    }
  }
}

}  // namespace walk_detail
}  // namespace nexdb::shard_detail
