// Must not compile: a model without table_name
// expect: a model needs `static constexpr std::string_view table_name
#include "models.hpp"

using namespace nexdb;

struct Nameless : Table<Nameless> {
  Column<std::int64_t> id{this, "id"};
};
inline const Nameless Thing;
