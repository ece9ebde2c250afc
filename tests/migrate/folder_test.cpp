// Loading a migration folder: names, duplicates, undo files, dialect variants (no database).
#include <gmock/gmock.h>

#include <fstream>

#include "nexdb/migrate.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class FolderTest : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& sql = "SELECT 1;") {
    std::ofstream(dir_.path() + "/" + name) << sql;
  }
  /// The ConfigError message load() throws, or "" when it loads.
  std::string load_error() {
    try {
      MigrationManager().load(dir_.path());
      return "";
    } catch (const ConfigError& e) {
      return e.what();
    }
  }
  std::vector<std::string> versions() {
    MigrationManager m;
    m.load(dir_.path());
    return m.versions();
  }
  TempDir dir_;
};

TEST_F(FolderTest, LoadsMigrationsUndosAndVariantsIgnoringOtherFiles) {
  write("V1.0.0__create_users_table.sql");
  write("V1.0.0__create_users_table.postgres.sql");
  write("U1.0.0__create_users_table.sql");
  write("V1.10.0__later.sqlite.sql");
  write("V1.9.0__earlier.sql");
  write("README.md", "not a migration");
  write("V1.5__backup.sql~", "an editor's backup");
  write(".V1.6__hidden.sql");
  std::filesystem::create_directory(dir_.path() + "/V1.7__a_directory.sql");
  EXPECT_THAT(versions(), ElementsAre("1.0.0", "1.9.0", "1.10.0"));
}

TEST_F(FolderTest, BadFileNamesAreNamedWithWhatIsWrong) {
  write("V1.0__.sql");
  write("V1.a__bad_version.sql");
  write("V1.2_one_underscore.sql");
  write("X1__unknown_prefix.sql");
  write("V2__mysql_flavour.mysql.sql");
  write("v3__lowercase.sql");
  write("V4__fine.sql");
  const std::string error = load_error();
  EXPECT_THAT(error, HasSubstr("6 bad file(s)"));
  EXPECT_THAT(error, HasSubstr("V1.0__.sql: the description after '__' is empty"));
  EXPECT_THAT(error, HasSubstr("V1.a__bad_version.sql: '1.a' is not a migration version"));
  EXPECT_THAT(error, HasSubstr("V1.2_one_underscore.sql: missing '__'"));
  EXPECT_THAT(error, HasSubstr("X1__unknown_prefix.sql: a migration file name starts with V"));
  EXPECT_THAT(error, HasSubstr("V2__mysql_flavour.mysql.sql: unknown dialect suffix '.mysql'"));
  EXPECT_THAT(error, HasSubstr("v3__lowercase.sql: a migration file name starts with V"));
  EXPECT_THAT(error, Not(HasSubstr("V4__fine.sql")));
}

TEST_F(FolderTest, DuplicateVersionsAreErrorsEvenWhenSpelledDifferently) {
  write("V1.2__first.sql");
  write("V1.2.0__first.sql");
  EXPECT_THAT(load_error(),
              HasSubstr("V1.2__first.sql: version 1.2 is already defined by V1.2.0__first.sql"));
}

TEST_F(FolderTest, VariantsMustShareTheirMigrationsDescription) {
  write("V1__create_users.sql");
  write("V1__create_people.postgres.sql");
  EXPECT_THAT(load_error(),
              HasSubstr("V1__create_users.sql: description 'create users' differs from "
                        "'create people' in V1__create_people.postgres.sql"));
}

TEST_F(FolderTest, AnUndoNeedsItsMigration) {
  write("V1__a.sql");
  write("U2__b.sql");
  write("U1__not_a.sql");
  const std::string error = load_error();
  EXPECT_THAT(error, HasSubstr("U2__b.sql: an undo for version 2, but no V2__....sql migration"));
  EXPECT_THAT(error, HasSubstr("U1__not_a.sql: description 'not a' differs from 'a'"));
}

TEST_F(FolderTest, AMissingFolderIsAConfigError) {
  try {
    MigrationManager().load(dir_.path() + "/nope");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nope' does not exist"));
  }
}

TEST_F(FolderTest, FilesAndCppMigrationsShareOneVersionSpace) {
  write("V1__a.sql");
  MigrationManager m;
  m.version("2", "b", [](Transaction&) {});
  EXPECT_THROW(m.version("2.0", "again", [](Transaction&) {}), ConfigError);
  EXPECT_THROW(m.version("x", "bad", [](Transaction&) {}), ConfigError);
  EXPECT_THROW(m.version("3", "no function", {}), UsageError);
  m.load(dir_.path());
  EXPECT_THAT(m.versions(), ElementsAre("1", "2"));
  write("V2__clash.sql");
  MigrationManager again;
  again.version("2", "b", [](Transaction&) {});
  try {
    again.load(dir_.path());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("V2__clash.sql: version 2 is already defined by a C++ migration"));
  }
  EXPECT_THAT(again.versions(), ElementsAre("2"));  // a failed load adds nothing
}

}  // namespace
}  // namespace nexdb::test
