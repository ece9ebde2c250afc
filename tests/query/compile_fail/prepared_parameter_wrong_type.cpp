// Must not compile: a text parameter compared with an integer column
// expect: are not comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() {
  auto query = prepare<std::string>([](auto email) { return select(User.id).from(User).where(User.id == email); });
}
