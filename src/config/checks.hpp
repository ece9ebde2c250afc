// Value checks shared by the file reader and the environment overlay. Each returns what is
// wrong (to follow "<where>: <key>: "), or nullopt when the value is fine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nexdb::config_detail {

/// A connection URI: known scheme (dialect_of), a SQLite file name, a parseable libpq string.
/// The message never contains the password.
std::optional<std::string> check_uri(std::string_view uri);
/// host:port for a listening socket: IPv4, [IPv6] or a host name; port 1..65535.
std::optional<std::string> check_listen(std::string_view listen);
/// A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
std::optional<std::string> check_label_name(std::string_view name);
/// A cluster name: 1..63 of [A-Za-z0-9_-] (names appear in metrics, logs and CLI options).
std::optional<std::string> check_cluster_name(std::string_view name);
/// application_name: up to 63 printable ASCII characters (PostgreSQL's limit).
std::optional<std::string> check_application_name(std::string_view name);

}  // namespace nexdb::config_detail
