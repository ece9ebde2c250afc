// Must not compile: a prepared query's integer argument given text
// expect: no match for call
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() {
  const auto find = prepare<std::int64_t>([](auto id) { return select(User.id).from(User).where(User.id == id); });
  auto bound = find("x");
}
