#include "monitor/notifier.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace nexdb::monitor_detail {

Notifier::Notifier(metrics::Family<metrics::Counter>& outcomes)
    : outcomes_(outcomes), thread_([this] { run(); }) {}

Notifier::~Notifier() {
  wait_idle(std::chrono::seconds(5));
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Notifier::add_sink(std::shared_ptr<AlertSink> sink) {
  std::lock_guard lock(mutex_);
  sinks_.push_back(std::move(sink));
}

void Notifier::post(std::vector<Alert> changes, std::vector<Alert> firing) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(changes), std::move(firing)});
  }
  wake_.notify_all();
}

bool Notifier::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

void Notifier::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Round round = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const auto sinks = sinks_;
    lock.unlock();
    deliver(round, sinks);
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

void Notifier::deliver(const Round& round, const std::vector<std::shared_ptr<AlertSink>>& sinks) {
  for (const auto& sink : sinks) {
    try {
      if (!round.changes.empty()) sink->deliver(round.changes);
      sink->still_firing(round.firing);
      if (!round.changes.empty()) outcomes_.with({sink->name(), "ok"}).inc();
    } catch (const std::exception& e) {
      outcomes_.with({sink->name(), "failed"}).inc();
      spdlog::warn("nexdb monitor: alert sink {} failed: {}", sink->name(), e.what());
    }
  }
}

std::string rfc3339(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", time_point_cast<seconds>(time), ms);
}

}  // namespace nexdb::monitor_detail
