#include "archive/fault.hpp"

#include <atomic>

namespace nexdb::archive_detail {
namespace {

std::atomic<FaultHook> hook{nullptr};

}  // namespace

void set_fault_hook(FaultHook h) noexcept { hook.store(h); }

void fault_point(std::string_view point) {
  if (const FaultHook h = hook.load(std::memory_order_relaxed)) h(point);
}

}  // namespace nexdb::archive_detail
