// Must not compile: LIKE on an integer column
// expect: like() applies to text
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.id.like("1%"); }
