// A cheap monotonic clock for the pool's bookkeeping (idle, lifetime and leak timestamps).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace nexdb::detail {

/// CLOCK_MONOTONIC_COARSE: a vDSO read of the last tick (1-4 ms resolution), several times
/// cheaper than steady_clock. Every timeout it serves is hundreds of milliseconds or more, so
/// the resolution is irrelevant; it keeps the acquire/release fast path free of a real clock read.
struct CoarseClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<CoarseClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(duration(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec));
  }
};

}  // namespace nexdb::detail
