#include "nexdb/global_id.hpp"

#include <fmt/format.h>

#include <random>

#include "nexdb/error.hpp"

namespace nexdb {
namespace {

constexpr std::uint64_t kSequenceMask = (1u << GlobalIdGenerator::kSequenceBits) - 1;
constexpr std::uint16_t kMaxNode = (1u << GlobalIdGenerator::kNodeBits) - 1;

std::uint16_t random_node() {
  std::random_device device;
  return static_cast<std::uint16_t>(device() & kMaxNode);
}

}  // namespace

GlobalIdGenerator::GlobalIdGenerator(GlobalIdSettings settings)
    : node_id_(settings.node_id.value_or(random_node())), epoch_(settings.epoch) {
  if (node_id_ > kMaxNode) {
    throw ConfigError(
        fmt::format("global id node_id {} is out of range: 0 to {}", node_id_, kMaxNode));
  }
}

std::int64_t GlobalIdGenerator::next() noexcept {
  using namespace std::chrono;
  const auto now = time_point_cast<milliseconds>(system_clock::now());
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, (now - epoch_).count()));
  std::uint64_t last = last_.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    // A later millisecond starts at sequence 0; otherwise (same ms, or the clock went back)
    // continue after the last id, which carries into the next millisecond when the sequence
    // is used up.
    next = (ms << kSequenceBits) > last ? ms << kSequenceBits : last + 1;
  } while (!last_.compare_exchange_weak(last, next, std::memory_order_relaxed));
  const std::uint64_t time = next >> kSequenceBits;
  const std::uint64_t sequence = next & kSequenceMask;
  return static_cast<std::int64_t>((time << (kNodeBits + kSequenceBits)) |
                                   (static_cast<std::uint64_t>(node_id_) << kSequenceBits) |
                                   sequence);
}

GlobalIdParts GlobalIdGenerator::decode(
    std::int64_t id, std::chrono::sys_time<std::chrono::milliseconds> epoch) noexcept {
  const auto bits = static_cast<std::uint64_t>(id);
  return {.time = epoch + std::chrono::milliseconds(bits >> (kNodeBits + kSequenceBits)),
          .node_id = static_cast<std::uint16_t>((bits >> kSequenceBits) & kMaxNode),
          .sequence = static_cast<std::uint16_t>(bits & kSequenceMask)};
}

}  // namespace nexdb
