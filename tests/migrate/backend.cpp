// MigrateTest runs on the backend this executable is built for (NEXDB_TEST_DIALECT, set in
// CMakeLists.txt), so the same tests give distinct ctest names per backend.
#include "migrate_fixture.hpp"

namespace nexdb::test {
INSTANTIATE_TEST_SUITE_P(Backend, MigrateTest, ::testing::Values(NEXDB_TEST_DIALECT), backend_name);
}  // namespace nexdb::test
