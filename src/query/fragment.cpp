// Composition of fragments: every operator, predicate and function of the builder ends here.
#include <string>
#include <utility>

#include "nexdb/identifier.hpp"
#include "nexdb/query/expr.hpp"
#include "nexdb/query/fragment.hpp"

namespace nexdb::detail {
namespace {

bool needs_parens(const Operand& operand, Prec context, bool strict) {
  return operand.prec < context || (strict && operand.prec == context);
}

void append_operand(Fragment& out, const Operand& operand, Prec context, bool strict) {
  const bool wrap = needs_parens(operand, context, strict);
  if (wrap) out.sql.push_back('(');
  append(out, operand);
  if (wrap) out.sql.push_back(')');
}

// Operands of comparisons and predicates (IN, BETWEEN, IS NULL) are wrapped unless they bind
// more tightly than any comparison: a + b IN (...) needs nothing, (a = b) IS NULL does.
void append_compared(Fragment& out, const Operand& operand) {
  append_operand(out, operand, Prec::comparison, true);
}

}  // namespace

void append(Fragment& out, const Operand& operand) {
  for (std::uint8_t p = 0; p < operand.size; ++p) {
    const Piece& piece = operand.pieces[p];
    out.sql.append(piece.sql);
    for (std::size_t i = 0; i < piece.param_count; ++i) {
      if (piece.movable) {
        // A movable piece belongs to a temporary handed over by the caller: its values are ours.
        out.params.push_back(std::move(const_cast<Value&>(piece.params[i])));
      } else {
        out.params.push_back(piece.params[i]);
      }
    }
  }
}

Fragment binary(const Operand& lhs, std::string_view op, const Operand& rhs, Prec prec) {
  Fragment out;
  const bool associative = prec == Prec::logical_and || prec == Prec::logical_or;
  // Comparisons do not chain; arithmetic is left-associative, so only its right side needs
  // parentheses at equal precedence: a - (b - c).
  append_operand(out, lhs, prec, prec == Prec::comparison);
  out.sql.append(op);
  append_operand(out, rhs, prec, !associative);
  out.prec = prec;
  return out;
}

Fragment prefix(std::string_view op, const Operand& operand, Prec prec) {
  Fragment out;
  out.sql.append(op);
  // NOT binds more loosely than comparisons in SQL; parentheses make that visible.
  append_operand(out, operand, Prec::atom, false);
  out.prec = prec;
  return out;
}

Fragment postfix(const Operand& operand, std::string_view op, Prec prec) {
  Fragment out;
  append_operand(out, operand, prec, prec == Prec::comparison);
  out.sql.append(op);
  out.prec = prec;
  return out;
}

Fragment call(std::string_view name, const Operand& operand, bool distinct) {
  Fragment out;
  out.sql.append(name);
  out.sql.push_back('(');
  if (distinct) out.sql.append("DISTINCT ");
  append(out, operand);
  out.sql.push_back(')');
  return out;
}

Fragment in_list(const Operand& operand, std::vector<Value>&& values, bool negate, bool as_real) {
  Fragment out;
  out.prec = Prec::comparison;
  if (values.empty()) {
    // `x IN ()` is a syntax error; an empty list matches nothing (NOT IN: everything).
    out.sql.append(negate ? "1 = 1" : "1 = 0");
    return out;
  }
  const std::string_view placeholder = as_real ? kRealParamText : kParamText;
  append_compared(out, operand);
  out.sql.append(negate ? " NOT IN (" : " IN (");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.sql.append(", ");
    out.sql.append(placeholder);
    out.params.push_back(std::move(values[i]));
  }
  out.sql.push_back(')');
  return out;
}

Fragment between(const Operand& operand, const Operand& low, const Operand& high) {
  Fragment out;
  append_compared(out, operand);
  out.sql.append(" BETWEEN ");
  append_compared(out, low);
  out.sql.append(" AND ");
  append_compared(out, high);
  out.prec = Prec::comparison;
  return out;
}

Fragment alias(const Operand& operand, std::string_view name) {
  Fragment out;
  append(out, operand);
  out.sql.append(" AS ");
  out.sql.append(quote_identifier(name));
  return out;
}

Fragment text_fragment(std::string_view a, std::string_view b) {
  Fragment out;
  out.sql.append(a);
  out.sql.append(b);
  return out;
}

}  // namespace nexdb::detail
