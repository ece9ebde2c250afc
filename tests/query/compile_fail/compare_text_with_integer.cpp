// Must not compile: a text column compared with an integer
// expect: are not comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.email == 5; }
