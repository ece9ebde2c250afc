// MonitorSnapshot as JSON (`nexdb monitor --format json`, /monitor.json) and back again (what
// `nexdb monitor --url` reads from a process that serves its monitor).
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "http/http.hpp"
#include "monitor/notifier.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::system_clock;

// monitor_detail::rfc3339's form: 2026-12-06T03:17:04.419Z
Clock::time_point parse_time(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return {};
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return Clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

HostSnapshot host_from(const Json& h) {
  HostSnapshot out{.cluster = h.at("cluster"),
                   .host = h.at("host"),
                   .role = h.at("role"),
                   .up = h.at("up"),
                   .error = h.value("error", ""),
                   .server_connections = h.at("server_connections"),
                   .max_connections = h.at("max_connections"),
                   .cache_hit_ratio = h.at("cache_hit_ratio").is_null()
                                          ? -1.0
                                          : h.at("cache_hit_ratio").get<double>(),
                   .transactions_per_second = h.at("transactions_per_second"),
                   .deadlocks = h.at("deadlocks"),
                   .lag_bytes = h.at("lag_bytes"),
                   .lag_seconds = h.at("lag_seconds"),
                   .lock_wait_seconds = h.at("lock_wait_seconds"),
                   .idle_in_transaction_seconds = h.at("idle_in_transaction_seconds")};
  if (h.contains("pool")) {
    const Json& p = h["pool"];
    PoolStats pool;
    pool.total = p.at("total");
    pool.idle = p.at("idle");
    pool.active = p.at("active");
    pool.waiting = p.at("waiting");
    pool.acquired = p.at("acquired");
    pool.timeouts = p.at("timeouts");
    pool.acquire_wait_sum = std::chrono::round<decltype(pool.acquire_wait_sum)>(
        std::chrono::duration<double>(p.value("acquire_wait_seconds_sum", 0.0)));
    out.pool = pool;
  }
  return out;
}

Alert alert_from(const Json& a) {
  Alert out{
      .name = a.at("name"),
      .metric = a.value("metric", ""),
      .severity =
          severity_from_string(a.at("severity").get<std::string>()).value_or(Severity::warning),
      .state = a.at("state") == "firing" ? AlertState::firing : AlertState::pending,
      .labels = a.at("labels").get<metrics::Labels>(),
      .value = a.at("value"),
      .threshold = a.at("threshold"),
      .summary = a.at("summary"),
      .active_at = parse_time(a.at("since"))};
  return out;
}

}  // namespace

std::string to_json(const MonitorSnapshot& s) {
  Json hosts = Json::array();
  for (const HostSnapshot& h : s.hosts) {
    Json host = {{"cluster", h.cluster},
                 {"host", h.host},
                 {"role", h.role},
                 {"up", h.up},
                 {"server_connections", h.server_connections},
                 {"max_connections", h.max_connections},
                 {"transactions_per_second", h.transactions_per_second},
                 {"deadlocks", h.deadlocks},
                 {"lag_bytes", h.lag_bytes},
                 {"lag_seconds", h.lag_seconds},
                 {"lock_wait_seconds", h.lock_wait_seconds},
                 {"idle_in_transaction_seconds", h.idle_in_transaction_seconds}};
    host["cache_hit_ratio"] = h.cache_hit_ratio < 0 ? Json(nullptr) : Json(h.cache_hit_ratio);
    if (!h.error.empty()) host["error"] = h.error;
    if (h.pool) {
      host["pool"] = {{"total", h.pool->total},
                      {"idle", h.pool->idle},
                      {"active", h.pool->active},
                      {"waiting", h.pool->waiting},
                      {"acquired", h.pool->acquired},
                      {"timeouts", h.pool->timeouts},
                      {"acquire_wait_seconds_sum",
                       std::chrono::duration<double>(h.pool->acquire_wait_sum).count()}};
    }
    hosts.push_back(std::move(host));
  }
  Json statements = Json::array();
  for (const StatementSnapshot& st : s.statements) {
    statements.push_back({{"cluster", st.cluster},
                          {"host", st.host},
                          {"id", st.id},
                          {"query", st.query},
                          {"calls", st.calls},
                          {"mean_ms", st.mean_ms},
                          {"total_ms", st.total_ms},
                          {"source", st.from_server ? "pg_stat_statements" : "process"}});
  }
  Json alerts = Json::array();
  for (const Alert& a : s.alerts) {
    alerts.push_back({{"name", a.name},
                      {"metric", a.metric},
                      {"state", to_string(a.state)},
                      {"severity", to_string(a.severity)},
                      {"labels", a.labels},
                      {"value", a.value},
                      {"threshold", a.threshold},
                      {"summary", a.summary},
                      {"since", monitor_detail::rfc3339(a.active_at)}});
  }
  const Json out = {{"taken_at", monitor_detail::rfc3339(s.taken_at)},
                    {"hosts", hosts},
                    {"statements", statements},
                    {"alerts", alerts}};
  return out.dump(2);
}

MonitorSnapshot snapshot_from_json(std::string_view json) {
  try {
    const Json in = Json::parse(json);
    MonitorSnapshot out{.taken_at = parse_time(in.at("taken_at"))};
    for (const Json& h : in.at("hosts")) out.hosts.push_back(host_from(h));
    for (const Json& st : in.at("statements")) {
      out.statements.push_back({.cluster = st.at("cluster"),
                                .host = st.at("host"),
                                .id = st.at("id"),
                                .query = st.at("query"),
                                .calls = st.at("calls"),
                                .mean_ms = st.at("mean_ms"),
                                .total_ms = st.at("total_ms"),
                                .from_server = st.at("source") == "pg_stat_statements"});
    }
    for (const Json& a : in.at("alerts")) out.alerts.push_back(alert_from(a));
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("not a nexdb monitor snapshot: {}", e.what()));
  }
}

MonitorSnapshot fetch_snapshot(std::string_view url, std::chrono::milliseconds timeout) {
  const http::Url base = http::parse_url(url);
  const http::Result r = http::get(base, "/monitor.json", timeout);
  if (!r.ok()) {
    throw ConnectionError(fmt::format(
        "cannot read the monitor at {}/monitor.json: {}", base.display(),
        r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 200))));
  }
  return snapshot_from_json(r.body);
}

}  // namespace nexdb
