// Must not compile: nullopt assigned to a NOT NULL column
// expect: cannot be stored in the column
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = update(User).set(User.email = std::nullopt); }
