// What a backup is checked against: file checksums, and per-table row counts with key-column
// checksums taken in the backup's own snapshot and again in the restored copy.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nexdb/backup.hpp"
#include "nexdb/connection.hpp"

struct sqlite3;

namespace nexdb::backup_detail {

/// XXH3-128 of a file's contents, 32 hex digits.
std::string file_checksum(const std::filesystem::path& path);

/// Every user table of the connection's database (not the catalogs, not extension members),
/// by schema and name, in the transaction the connection is in. Pins the session's TimeZone,
/// DateStyle, IntervalStyle, extra_float_digits, bytea_output and lc_monetary first, so that
/// the checksums do not depend on the database's or the server's defaults.
std::vector<TableStats> postgres_table_stats(Connection& connection);

/// Every table of an open SQLite database (not sqlite_* internals), by name.
std::vector<TableStats> sqlite_table_stats(sqlite3* db);

/// Appends one check per table: manifest vs restored (rows and key checksum), plus a failed
/// check for a table missing on either side.
void compare_tables(const std::string& part, const std::vector<TableStats>& expected,
                    const std::vector<TableStats>& actual, std::vector<VerifyCheck>& checks);

/// "schema.table" or "table".
std::string qualified_name(const TableStats& table);

}  // namespace nexdb::backup_detail
