// Must not compile: AND of a condition and an integer column
// expect: combines two SQL conditions
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto condition = (User.id == 1) && User.id; }
