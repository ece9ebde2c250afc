// Must not compile: having() given an aggregate, not a condition
// expect: having() takes a SQL condition
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = select(count()).from(User).group_by(User.email).having(count()); }
