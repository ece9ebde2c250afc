#include <nexdb/nexdb.hpp>

#include <iostream>

int main() {
  auto db = nexdb::Database::open("sqlite::memory:");
  std::cout << "consumer ok " << db.execute("SELECT 40 + 2").scalar<std::int64_t>() << "\n";
}
