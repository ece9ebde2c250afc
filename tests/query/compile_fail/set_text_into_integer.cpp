// Must not compile: text assigned to an integer column
// expect: cannot be stored in the column
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = update(User).set(User.id = "x"); }
