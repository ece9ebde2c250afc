// Must not compile: an integer column compared with text
// expect: are not comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.id == "x"; }
