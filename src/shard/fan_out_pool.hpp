// Threads that run the per-shard parts of a fan-out at the same time. The caller runs one part
// itself, so a fan-out over n clusters hands only n - 1 parts to other threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nexdb::shard_detail {

class FanOutPool {
 public:
  explicit FanOutPool(std::size_t threads);
  ~FanOutPool();
  FanOutPool(const FanOutPool&) = delete;
  FanOutPool& operator=(const FanOutPool&) = delete;

  /// Runs every task (which must not throw) and returns when all have finished.
  void run(std::vector<std::function<void()>>& tasks);

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  struct Queued {
    std::function<void()>* task;
    const void* batch;  // which run() queued it
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nexdb::shard_detail
