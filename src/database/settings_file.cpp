// nexdb.toml -> DatabaseSettings, through Config (which owns the file format).
#include "database/settings_of.hpp"

namespace nexdb {

DatabaseSettings load_database_settings(const std::string& path) {
  return detail::settings_of(Config::load(path).default_cluster());
}

}  // namespace nexdb
