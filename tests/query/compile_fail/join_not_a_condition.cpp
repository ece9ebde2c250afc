// Must not compile: a join condition that is an integer column
// expect: join() takes a SQL condition
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = select(Order.id).from(Order).join(User, Order.user_id); }
