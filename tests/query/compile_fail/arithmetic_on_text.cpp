// Must not compile: arithmetic on a text column
// expect: applies to numeric operands only
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto expr = User.email + 1; }
