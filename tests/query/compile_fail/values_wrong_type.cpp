// Must not compile: values() with an integer for a text column
// expect: cannot be stored in its column
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

void snippet() { auto query = insert_into(User).columns(User.email, User.status).values(5, "x"); }
