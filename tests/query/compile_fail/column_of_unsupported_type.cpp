// Must not compile: a column of a type no backend stores
// expect: Column<T> holds
#include "models.hpp"

using namespace nexdb;

struct Things : Table<Things> {
  static constexpr std::string_view table_name = "things";
  Column<const char*> name{this, "name"};
};
inline const Things Thing;
