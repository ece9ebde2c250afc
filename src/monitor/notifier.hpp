// Delivers alert notifications to the sinks on a thread of its own, so a slow webhook never
// delays sampling. Batches are delivered in order; a failing sink is logged and counted.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nexdb/monitor.hpp"

namespace nexdb::monitor_detail {

class Notifier {
 public:
  explicit Notifier(metrics::Family<metrics::Counter>& outcomes);
  /// Delivers what is queued (up to `drain`), then stops.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void add_sink(std::shared_ptr<AlertSink> sink);
  /// Queues one round: the alerts that changed and all that are still firing.
  void post(std::vector<Alert> changes, std::vector<Alert> firing);
  /// Waits until every queued round has been delivered; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Round {
    std::vector<Alert> changes;
    std::vector<Alert> firing;
  };
  void run();
  void deliver(const Round& round, const std::vector<std::shared_ptr<AlertSink>>& sinks);

  metrics::Family<metrics::Counter>& outcomes_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Round> queue_;
  std::vector<std::shared_ptr<AlertSink>> sinks_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

/// RFC 3339 UTC with milliseconds ("2026-11-25T18:08:59.123Z"), as Alertmanager expects.
std::string rfc3339(std::chrono::system_clock::time_point time);

}  // namespace nexdb::monitor_detail
