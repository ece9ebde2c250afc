#include "backup/pg_conninfo.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <map>
#include <memory>

#include "nexdb/backup.hpp"

namespace nexdb::backup_detail {
namespace {

std::string render(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += ' ';
    out += key + "=" + quote_conninfo_value(value);
  }
  return out;
}

std::map<std::string, std::string> params_of(const std::string& conninfo) {
  std::map<std::string, std::string> params;
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    throw BackupError(fmt::format("invalid connection string '{}': {}", redact_password(conninfo),
                                  redact_password(reason)));
  }
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') params[o->keyword] = o->val;
  }
  return params;
}

}  // namespace

std::string quote_conninfo_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

PgConnInfo parse_conninfo(std::string_view uri) {
  std::map<std::string, std::string> params = params_of(std::string(uri));
  PgConnInfo info;
  if (auto it = params.find("password"); it != params.end()) {
    info.password = it->second;
    params.erase(it);
  }
  if (auto it = params.find("dbname"); it != params.end()) info.dbname = it->second;
  if (auto it = params.find("user"); it != params.end()) info.user = it->second;
  info.conninfo = render(params);
  return info;
}

PgConnInfo PgConnInfo::with_dbname(std::string_view name) const {
  std::map<std::string, std::string> params = params_of(conninfo);
  params["dbname"] = std::string(name);
  PgConnInfo out = *this;
  out.conninfo = render(params);
  out.dbname = std::string(name);
  return out;
}

std::string PgConnInfo::connect_string() const {
  if (!password) return conninfo;
  return conninfo + " password=" + quote_conninfo_value(*password);
}

void PgConnInfo::add_password(Command& command) const {
  if (password) command.env.emplace_back("PGPASSWORD", *password);
}

}  // namespace nexdb::backup_detail
