#include "shard/fan_out_pool.hpp"

#include <latch>

namespace nexdb::shard_detail {

FanOutPool::FanOutPool(std::size_t threads) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

FanOutPool::~FanOutPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void FanOutPool::work() {
  for (;;) {
    std::function<void()>* task = nullptr;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = queue_.front().task;
      queue_.pop_front();
    }
    (*task)();
  }
}

void FanOutPool::run(std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  if (tasks.size() == 1 || threads_.empty()) {
    for (auto& task : tasks) task();
    return;
  }
  std::latch done(static_cast<std::ptrdiff_t>(tasks.size()));
  std::vector<std::function<void()>> wrapped;
  wrapped.reserve(tasks.size());
  for (auto& task : tasks) {
    wrapped.emplace_back([&task, &done] {
      task();
      done.count_down();
    });
  }
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 1; i < wrapped.size(); ++i) queue_.push_back({&wrapped[i], &done});
  }
  ready_.notify_all();
  wrapped.front()();
  // Help with parts no worker has picked up yet (all workers may be busy with other fan-outs).
  for (;;) {
    std::function<void()>* task = nullptr;
    {
      std::lock_guard lock(mutex_);
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->batch == &done) {
          task = it->task;
          queue_.erase(it);
          break;
        }
      }
    }
    if (task == nullptr) break;
    (*task)();
  }
  done.wait();
}

}  // namespace nexdb::shard_detail
