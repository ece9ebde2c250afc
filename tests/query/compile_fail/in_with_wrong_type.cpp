// Must not compile: an integer column IN a list of text
// expect: in() values must be comparable
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = User.id.in({"a", "b"}); }
