// The typed query builder: models (Table, Column), expressions and the SELECT, INSERT, UPDATE
// and DELETE builders. Every builder renders to a Statement for a Dialect; values are always
// bound as parameters and identifiers always quoted. See docs/query.md.
#pragma once

#include "nexdb/query/comparison.hpp"  // IWYU pragma: export
#include "nexdb/query/delete.hpp"      // IWYU pragma: export
#include "nexdb/query/expr.hpp"        // IWYU pragma: export
#include "nexdb/query/functions.hpp"   // IWYU pragma: export
#include "nexdb/query/insert.hpp"      // IWYU pragma: export
#include "nexdb/query/operators.hpp"   // IWYU pragma: export
#include "nexdb/query/prepared.hpp"    // IWYU pragma: export
#include "nexdb/query/select.hpp"      // IWYU pragma: export
#include "nexdb/query/table.hpp"       // IWYU pragma: export
#include "nexdb/query/update.hpp"      // IWYU pragma: export
