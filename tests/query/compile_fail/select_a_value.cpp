// Must not compile: select() of a plain C++ value
// expect: select() takes columns
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = select(5).from(User); }
