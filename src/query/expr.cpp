// Non-template parts of expressions.
#include "nexdb/query/expr.hpp"
#include "nexdb/error.hpp"

namespace nexdb {

OrderTerm&& OrderTerm::nulls(std::string_view nulls) && {
  if (!nulls_.empty()) throw UsageError("order_by term: nulls_first()/nulls_last() given twice");
  nulls_ = nulls;
  return std::move(*this);
}

}  // namespace nexdb
