// FIFO fairness and the async waiter hook (acquire_async / cancel_waiter).
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "pool/pool_test_support.hpp"

namespace nexdb::test {
namespace {

using namespace std::chrono_literals;

struct PoolWaiters : ::testing::Test {
  std::shared_ptr<FactoryCounters> counters = std::make_shared<FactoryCounters>();
  ConnectionPool pool{sqlite_factory(counters),
                      {.min_idle = 0,
                       .max_size = 1,
                       .acquire_timeout = 10s,
                       .housekeeping_period = 1h,
                       .name = "fifo"}};
};

/// What an async callback received, for the test thread to inspect.
struct AsyncResult {
  std::promise<std::pair<Lease, std::exception_ptr>> promise;
  std::thread::id thread;
  ConnectionPool::AcquireCallback callback() {
    return [this](Lease lease, std::exception_ptr error) {
      thread = std::this_thread::get_id();
      promise.set_value({std::move(lease), error});
    };
  }
};

TEST_F(PoolWaiters, WaitingThreadsAreServedInArrivalOrder) {
  auto held = pool.acquire();
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  constexpr int kWaiters = 6;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      auto lease = pool.acquire();
      std::lock_guard lock(order_mutex);
      order.push_back(i);
    });
    // Thread i is queued before thread i + 1 starts, so arrival order is known.
    ASSERT_TRUE(
        eventually([&] { return pool.stats().waiting == static_cast<std::size_t>(i + 1); }));
  }
  held.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(counters->opened, 1);
}

TEST_F(PoolWaiters, AsyncGetsALeaseInlineWhenOneIsIdle) {
  pool.acquire().release();  // one idle connection
  AsyncResult result;
  const auto ticket = pool.acquire_async(result.callback());
  auto future = result.promise.get_future();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);  // ran before acquire_async returned
  auto [lease, error] = future.get();
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(lease->execute("SELECT 7").scalar<int>(), 7);
  EXPECT_EQ(result.thread, std::this_thread::get_id());
  EXPECT_FALSE(pool.cancel_waiter(ticket));
}

TEST_F(PoolWaiters, AsyncIsCompletedByTheReleasingThread) {
  auto held = pool.acquire();
  AsyncResult result;
  pool.acquire_async(result.callback());
  auto future = result.promise.get_future();
  EXPECT_EQ(future.wait_for(20ms), std::future_status::timeout);
  EXPECT_EQ(pool.stats().waiting, 1u);
  std::thread releaser([&] { held.release(); });
  const auto releaser_id = releaser.get_id();
  releaser.join();
  auto [lease, error] = future.get();
  ASSERT_TRUE(lease);
  EXPECT_EQ(result.thread, releaser_id);
  EXPECT_EQ(pool.stats().active, 1u);
}

TEST_F(PoolWaiters, AsyncOpensANewConnectionOffTheCallersThread) {
  AsyncResult result;
  pool.acquire_async(result.callback());
  auto future = result.promise.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto [lease, error] = future.get();
  ASSERT_TRUE(lease);
  EXPECT_NE(result.thread, std::this_thread::get_id());  // the housekeeper opened it
  EXPECT_EQ(counters->opened, 1);
}

TEST_F(PoolWaiters, AsyncOpenFailureIsDeliveredAsConnectionError) {
  counters->fail_opens = true;
  AsyncResult result;
  pool.acquire_async(result.callback());
  auto future = result.promise.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto [lease, error] = future.get();
  EXPECT_FALSE(lease);
  EXPECT_THROW(std::rethrow_exception(error), ConnectionError);
  EXPECT_EQ(pool.stats().total, 0u);
}

TEST_F(PoolWaiters, CancelledWaiterIsNeverCalled) {
  auto held = pool.acquire();
  bool called = false;
  const auto ticket = pool.acquire_async([&](Lease, std::exception_ptr) { called = true; });
  EXPECT_TRUE(pool.cancel_waiter(ticket));
  EXPECT_FALSE(pool.cancel_waiter(ticket));
  EXPECT_EQ(pool.stats().waiting, 0u);
  held.release();
  EXPECT_FALSE(called);
  EXPECT_EQ(pool.stats().idle, 1u);  // nobody was waiting: it went back to the pool
}

TEST_F(PoolWaiters, SyncAndAsyncWaitersShareOneQueue) {
  auto held = pool.acquire();
  std::vector<std::string> order;
  std::mutex order_mutex;
  std::thread sync_waiter([&] {
    auto lease = pool.acquire();
    std::lock_guard lock(order_mutex);
    order.push_back("sync");
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().waiting == 1; }));
  AsyncResult result;
  pool.acquire_async(result.callback());
  EXPECT_EQ(pool.stats().waiting, 2u);
  held.release();
  sync_waiter.join();  // served first; its release completes the async waiter
  auto future = result.promise.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto [lease, error] = future.get();
  EXPECT_TRUE(lease);
  EXPECT_EQ(order, std::vector<std::string>{"sync"});
}

TEST_F(PoolWaiters, CallbackThatReleasesAtOnceServesTheNextWaiter) {
  auto held = pool.acquire();
  int served = 0;
  for (int i = 0; i < 100; ++i) {
    pool.acquire_async([&](Lease lease, std::exception_ptr) { served += lease ? 1 : 0; });
  }
  held.release();  // a chain of 100 hand-offs, run as a loop rather than a recursion
  EXPECT_EQ(served, 100);
  EXPECT_EQ(pool.stats().idle, 1u);
}

TEST_F(PoolWaiters, ACallbackThatThrowsDoesNotLoseTheConnection) {
  LogCapture log;
  auto held = pool.acquire();
  pool.acquire_async([](Lease, std::exception_ptr) { throw std::runtime_error("boom"); });
  held.release();
  EXPECT_EQ(pool.stats().idle, 1u);
  EXPECT_EQ(log.count("callback threw: boom"), 1);
}

}  // namespace
}  // namespace nexdb::test
