// The per-thread Statement behind StatementShortcuts::execute (connection.hpp).
#include "nexdb/connection.hpp"

#include "core/thread_statement.hpp"

namespace nexdb::detail {
namespace {

// Text longer than this is not kept once the statement is done: one huge statement should
// not pin its buffer for the thread's lifetime.
constexpr std::size_t kKeptTextCapacity = 16 * 1024;
constexpr std::size_t kKeptParamsCapacity = 256;

struct ThreadStatement {
  Statement statement;
  bool lent = false;
  ~ThreadStatement();
};

thread_local ThreadStatement thread_statement;
// Trivially destructible, so still readable after thread_statement is gone: a query run or
// built from a static destructor or an atexit handler (after the main thread's thread_locals)
// then uses a Statement of its own.
thread_local bool thread_statement_gone = false;

ThreadStatement::~ThreadStatement() { thread_statement_gone = true; }

// The thread's Statement when it can be used now: not destroyed and not lent out.
ThreadStatement* available_thread_statement() noexcept {
  if (thread_statement_gone) return nullptr;
  ThreadStatement& mine = thread_statement;
  return mine.lent ? nullptr : &mine;
}

}  // namespace

ReusableStatement::ReusableStatement() noexcept {
  ThreadStatement* mine = available_thread_statement();
  borrowed_ = mine != nullptr;
  if (borrowed_) {
    mine->lent = true;
    statement_ = &mine->statement;
  } else {
    statement_ = &own_;
  }
}

ReusableStatement::~ReusableStatement() {
  if (!borrowed_) return;
  Statement& statement = *statement_;
  statement.params.clear();  // bound values (they may be large or secret) do not outlive the call
  if (statement.params.capacity() > kKeptParamsCapacity) statement.params.shrink_to_fit();
  if (statement.sql.capacity() > kKeptTextCapacity) {
    statement.sql.clear();
    statement.sql.shrink_to_fit();
  }
  thread_statement.lent = false;
}

bool take_thread_statement_buffers(std::string& text, std::vector<Value>& params,
                                   std::size_t min_text) noexcept {
  ThreadStatement* mine = available_thread_statement();
  if (mine == nullptr || mine->statement.sql.capacity() < min_text) return false;
  // Swapped with the builder's empty ones (values were destroyed when the Statement came back).
  text.swap(mine->statement.sql);
  params.swap(mine->statement.params);
  return true;
}

}  // namespace nexdb::detail
