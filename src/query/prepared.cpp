// Prepared builder queries: finding where each argument goes in a rendered statement.
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <random>

#include "nexdb/error.hpp"
#include "nexdb/query/prepared.hpp"

namespace nexdb::detail {

namespace {

// A marker is kMarkerSize bytes: a key drawn once per process, then the argument's index. The
// builder never looks at bound values, so the marker travels through any clause unchanged;
// no value a caller binds can equal it without knowing the key.
constexpr std::size_t kKeySize = 16;
constexpr std::size_t kMarkerSize = kKeySize + sizeof(std::uint32_t);

const std::array<std::byte, kKeySize>& marker_key() {
  static const std::array<std::byte, kKeySize> key = [] {
    std::random_device device;
    std::array<std::byte, kKeySize> bytes{};
    for (auto& b : bytes) b = static_cast<std::byte>(device() & 0xff);
    return bytes;
  }();
  return key;
}

// The argument index a value marks, or -1 when it is an ordinary value.
std::int64_t marked_index(const Value& value) {
  const auto* bytes = std::get_if<Bytes>(&value.storage());
  if (bytes == nullptr || bytes->size() != kMarkerSize) return -1;
  if (std::memcmp(bytes->data(), marker_key().data(), kKeySize) != 0) return -1;
  std::uint32_t index = 0;
  std::memcpy(&index, bytes->data() + kKeySize, sizeof index);
  return index;
}

}  // namespace

Value parameter_marker(std::size_t index) {
  Bytes bytes(kMarkerSize);
  std::memcpy(bytes.data(), marker_key().data(), kKeySize);
  const auto narrow = static_cast<std::uint32_t>(index);
  std::memcpy(bytes.data() + kKeySize, &narrow, sizeof narrow);
  return Value(std::move(bytes));
}

PreparedShape find_parameters(Statement rendered, std::size_t args) {
  PreparedShape shape;
  std::vector<std::size_t> last_slot(args, SIZE_MAX);
  for (std::size_t i = 0; i < rendered.params.size(); ++i) {
    const std::int64_t index = marked_index(rendered.params[i]);
    if (index < 0) continue;
    rendered.params[i] = Value();
    last_slot[static_cast<std::size_t>(index)] = shape.slots.size();
    shape.slots.push_back(static_cast<std::uint32_t>(i));
    shape.arg_of.push_back(static_cast<std::uint32_t>(index));
  }
  for (std::size_t a = 0; a < args; ++a) {
    if (last_slot[a] == SIZE_MAX) {
      throw UsageError(fmt::format(
          "argument {} of prepare() is not used in the query: pass each Parameter to the "
          "query (or drop the argument)",
          a));
    }
  }
  shape.last_use.assign(shape.slots.size(), false);
  for (std::size_t slot : last_slot) shape.last_use[slot] = true;
  shape.statement = std::move(rendered);
  return shape;
}

void bind_parameters(const PreparedShape& shape, Value* args, Statement& out) {
  out.sql.assign(shape.statement.sql);
  out.params.assign(shape.statement.params.begin(), shape.statement.params.end());
  for (std::size_t s = 0; s < shape.slots.size(); ++s) {
    Value& arg = args[shape.arg_of[s]];
    Value& slot = out.params[shape.slots[s]];
    if (shape.last_use[s]) {
      slot = std::move(arg);
    } else {
      slot = arg;
    }
  }
}

}  // namespace nexdb::detail
