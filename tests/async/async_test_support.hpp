// Running coroutines to completion in tests.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <utility>

namespace nexdb::test {

/// Runs `work` on `io` until everything on it has finished; returns its result or rethrows.
template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> work) {
  auto result = asio::co_spawn(io, std::move(work), asio::use_future);
  io.restart();
  io.run();
  return result.get();
}

inline std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace nexdb::test
