// Must not compile: where() given an integer column
// expect: where() takes a SQL condition
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = select(User.id).from(User).where(User.id); }
