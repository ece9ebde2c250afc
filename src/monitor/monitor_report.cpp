// What the monitor shows: snapshots for `nexdb monitor`, alerts, and /healthz.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "monitor/monitor_state.hpp"

namespace nexdb::detail {

using namespace monitor_detail;

namespace {

constexpr std::size_t top_statements = 10;

std::vector<StatementSnapshot> process_statements(QueryMetrics& queries) {
  std::vector<StatementSnapshot> out;
  for (QuerySeries* s : queries.all_series()) {
    const auto h = s->histogram->snapshot();
    if (h.count() == 0) continue;
    const double total_ms = h.sum * 1000;
    out.push_back({.cluster = s->cluster,
                   .host = s->host,
                   .id = s->shape.fingerprint,
                   .query = s->shape.query,
                   .calls = h.count(),
                   .mean_ms = total_ms / static_cast<double>(h.count()),
                   .total_ms = total_ms});
  }
  return out;
}

void keep_slowest(std::vector<StatementSnapshot>& statements) {
  std::sort(statements.begin(), statements.end(),
            [](const auto& a, const auto& b) { return a.mean_ms > b.mean_ms; });
  if (statements.size() > top_statements) statements.resize(top_statements);
}

}  // namespace

MonitorSnapshot MonitorState::snapshot() const {
  if (watching("pool")) const_cast<MonitorState*>(this)->export_pools();
  MonitorSnapshot out;
  auto ours = process_statements(*queries_);
  keep_slowest(ours);
  std::vector<StatementSnapshot> server;
  const auto all = targets();
  std::lock_guard lock(data_mutex_);
  out.taken_at = sampled_at_;
  for (const auto& target : all) {
    for (const auto& host : target->hosts) {
      HostSnapshot snap = host->snapshot;
      snap.cluster = host->cluster;
      if (snap.host.empty()) snap.host = host->label;
      out.hosts.push_back(std::move(snap));
      for (const ServerStatement& st : host->server_statements) {
        server.push_back({.cluster = host->cluster,
                          .host = host->label,
                          .id = st.queryid,
                          .query = st.query,
                          .calls = st.calls,
                          .mean_ms = st.mean_ms,
                          .total_ms = st.total_ms,
                          .from_server = true});
      }
    }
  }
  keep_slowest(server);
  out.statements = std::move(ours);
  out.statements.insert(out.statements.end(), server.begin(), server.end());
  out.alerts = engine_.active();
  return out;
}

std::vector<Alert> MonitorState::alerts() const {
  std::lock_guard lock(data_mutex_);
  return engine_.active();
}

HealthReport MonitorState::health() const {
  using Json = nlohmann::ordered_json;
  const auto all = targets();
  std::lock_guard lock(data_mutex_);
  bool healthy = !all.empty();
  Json clusters = Json::array();
  for (const auto& target : all) {
    Json hosts = Json::array();
    for (const auto& host : target->hosts) {
      healthy = healthy && host->snapshot.up;
      Json h = {{"host", host->label}, {"up", host->snapshot.up}, {"role", host->snapshot.role}};
      if (!host->snapshot.error.empty()) h["error"] = host->snapshot.error;
      hosts.push_back(std::move(h));
    }
    clusters.push_back({{"cluster", target->cluster}, {"hosts", std::move(hosts)}});
  }
  std::size_t firing = 0;
  for (const Alert& a : engine_.active()) firing += a.state == AlertState::firing ? 1 : 0;
  const Json body = {
      {"status", healthy ? "ok" : "unhealthy"}, {"clusters", clusters}, {"alerts_firing", firing}};
  return {.healthy = healthy, .body = body.dump()};
}

}  // namespace nexdb::detail
