#include "driver/concurrent_execute.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "driver/observed_connection.hpp"
#include "driver/postgres/pg_send.hpp"

namespace nexdb::detail {
namespace {

using Clock = std::chrono::steady_clock;

PgConnection* postgres_behind(Connection& connection) noexcept {
  return dynamic_cast<PgConnection*>(&unwrap_observed(connection));
}

struct InFlight {
  ConcurrentRun* run;
  std::optional<PgSend> send;
  std::shared_ptr<StatementObserver> observer{};  // null: nobody listens, no clock reads
  Clock::time_point start{};
};

// Starts `run` on its PostgreSQL connection; false when it has to run through execute().
bool start(ConcurrentRun& run, PgConnection& pg, std::vector<InFlight>& sent) {
  InFlight flight{.run = &run, .send = std::nullopt, .observer = observer_of(*run.connection)};
  if (flight.observer && !flight.observer->wants_statements()) flight.observer.reset();
  if (flight.observer) flight.start = Clock::now();
  try {
    flight.send = PgSend::start(pg, *run.statement);
    if (!flight.send) return false;
  } catch (...) {
    run.error = std::current_exception();
  }
  if (run.error) {
    if (flight.observer) {
      report_statement(*flight.observer, *run.connection, run.statement->sql,
                       Clock::now() - flight.start, nullptr, run.error);
    }
    return true;
  }
  sent.push_back(std::move(flight));
  return true;
}

void finish(InFlight& flight) {
  ConcurrentRun& run = *flight.run;
  try {
    run.rows = flight.send->finish();
  } catch (...) {
    run.error = std::current_exception();
  }
  if (flight.observer) {
    report_statement(*flight.observer, *run.connection, run.statement->sql,
                     Clock::now() - flight.start, run.rows ? &*run.rows : nullptr, run.error);
  }
}

// Waits for the sent statements' answers, finishing each as soon as it is complete.
void receive(std::vector<InFlight>& sent) {
  std::vector<pollfd> sockets;
  while (!sent.empty()) {
    sockets.clear();
    int timeout = -1;
    for (const InFlight& flight : sent) {
      sockets.push_back({.fd = flight.send->socket(), .events = POLLIN, .revents = 0});
      if (sockets.back().fd < 0) timeout = 0;  // a broken connection: report it without waiting
    }
    if (::poll(sockets.data(), sockets.size(), timeout) < 0 && errno != EINTR) {
      for (InFlight& flight : sent) finish(flight);  // blocking reads report what went wrong
      return;
    }
    for (std::size_t i = sent.size(); i-- > 0;) {
      if (sockets[i].revents == 0 && sockets[i].fd >= 0) continue;
      if (!sent[i].send->ready()) continue;
      finish(sent[i]);
      sent.erase(sent.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

}  // namespace

bool sends_without_waiting(Connection& connection) noexcept {
  return postgres_behind(connection) != nullptr;
}

void execute_concurrently(std::span<ConcurrentRun> runs) {
  std::vector<InFlight> sent;
  sent.reserve(runs.size());
  std::vector<ConcurrentRun*> blocking;
  for (ConcurrentRun& run : runs) {
    PgConnection* pg = postgres_behind(*run.connection);
    if (pg == nullptr || !start(run, *pg, sent)) blocking.push_back(&run);
  }
  for (ConcurrentRun* run : blocking) {
    try {
      run->rows = run->connection->execute(*run->statement);  // observed by its decorator
    } catch (...) {
      run->error = std::current_exception();
    }
  }
  receive(sent);
}

}  // namespace nexdb::detail
