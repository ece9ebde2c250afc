// The calling thread's reusable Statement (reusable_statement.cpp), seen from the builders.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb::detail {

/// Moves the buffers of the thread's Statement into a new builder: its text buffer, when it
/// holds at least `min_text` bytes, and its (empty) values vector. StatementShortcuts moves the
/// rendered statement back into that Statement to run it, so a query built and run per call
/// allocates nothing for its text and values once warm. False, with nothing moved, when the
/// Statement is lent out (the builder is made during a call) or its buffer is too small.
bool take_thread_statement_buffers(std::string& text, std::vector<Value>& params,
                                   std::size_t min_text) noexcept;

}  // namespace nexdb::detail
