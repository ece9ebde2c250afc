// Must not compile: a timestamp compared with an integer
// expect: are not comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.created_at > 5; }
