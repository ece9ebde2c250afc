// Helpers for the pool tests. Every connection is a real one (SQLite here, PostgreSQL in the
// integration tests); the only stand-in is Killable, which forwards to a real SQLite
// connection and can be "killed" the way pg_terminate_backend kills a PostgreSQL session.
#pragma once

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "nexdb/connection.hpp"
#include "nexdb/error.hpp"
#include "nexdb/pool.hpp"

namespace nexdb::test {

struct FactoryCounters {
  std::atomic<int> opened{0};
  std::atomic<int> alive{0};
  std::atomic<bool> fail_opens{false};
};

/// A real SQLite connection. After kill() it still looks healthy (is_broken() is false), like
/// a session the server dropped while idle; the next statement or ping fails and from then on
/// is_broken() is true, as libpq reports it.
class Killable final : public Connection {
 public:
  Killable(std::unique_ptr<Connection> real, std::shared_ptr<FactoryCounters> counters)
      : real_(std::move(real)), counters_(std::move(counters)) {
    ++counters_->alive;
  }
  ~Killable() override { --counters_->alive; }

  void kill() { killed_ = true; }

  Dialect dialect() const noexcept override { return real_->dialect(); }
  const std::string& description() const noexcept override { return real_->description(); }
  Rows execute(const Statement& statement) override {
    check();
    return real_->execute(statement);
  }
  void execute_script(std::string_view sql) override {
    check();
    real_->execute_script(sql);
  }
  void prepare(std::string_view name, std::string_view sql) override {
    check();
    real_->prepare(name, sql);
  }
  Rows execute_prepared(std::string_view name, std::span<const Value> params) override {
    check();
    return real_->execute_prepared(name, params);
  }
  bool ping() noexcept override {
    if (killed_) broken_ = true;
    return !broken_ && real_->ping();
  }
  bool is_broken() const noexcept override { return broken_ || real_->is_broken(); }
  TransactionStatus transaction_status() const noexcept override {
    return broken_ ? TransactionStatus::unknown : real_->transaction_status();
  }

 private:
  void check() {
    if (!killed_) return;
    broken_ = true;
    throw ConnectionLost("server closed the connection unexpectedly (killed by the test)");
  }

  std::unique_ptr<Connection> real_;
  std::shared_ptr<FactoryCounters> counters_;
  std::atomic<bool> killed_{false};
  std::atomic<bool> broken_{false};
};

/// Opens real SQLite connections to `uri`, counting opens and live connections. With
/// fail_opens set it opens a path under /dev/null, which cannot exist: a real ConnectionError.
inline ConnectionPool::Factory sqlite_factory(std::shared_ptr<FactoryCounters> counters,
                                              std::string uri = "sqlite::memory:") {
  return [counters = std::move(counters), uri = std::move(uri)]() -> std::unique_ptr<Connection> {
    const std::string target = counters->fail_opens ? "sqlite:/dev/null/nexdb/nowhere.db" : uri;
    auto real = connect(target);
    ++counters->opened;
    return std::make_unique<Killable>(std::move(real), counters);
  };
}

inline Killable& killable(Lease& lease) { return dynamic_cast<Killable&>(*lease); }

/// Polls `done` until it holds or `limit` passes; returns its last value.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Routes spdlog's default logger into a ring buffer for the test's lifetime.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const {
    std::string out;
    for (const auto& line : sink_->last_formatted()) out += line;
    return out;
  }
  int count(std::string_view needle) const {
    int n = 0;
    for (const auto& line : sink_->last_formatted()) n += line.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace nexdb::test
