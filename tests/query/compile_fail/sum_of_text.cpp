// Must not compile: sum() of a text column
// expect: sum() applies to numeric
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto expr = sum(User.email); }
