// Must not compile: values() with fewer values than columns
// expect: one value per column
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = insert_into(User).columns(User.email, User.status).values("a@x"); }
