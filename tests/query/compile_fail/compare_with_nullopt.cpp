// Must not compile: = NULL is never true; is_null() is the way
// expect: are not comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.status == std::nullopt; }
