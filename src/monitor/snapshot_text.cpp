// MonitorSnapshot as text (for terminals and the dashboard).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "monitor/rules.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb {
namespace {

using Table = std::vector<std::vector<std::string>>;

void append_table(std::string& out, const std::vector<std::string>& header, const Table& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    out += "  ";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out.append(width[i] - cells[i].size() + 2, ' ');
    }
    out += '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string connections_of(const HostSnapshot& h) {
  if (h.max_connections == 0) return "-";  // SQLite, or not sampled
  const auto count = [&](const char* state) {
    auto it = h.server_connections.find(state);
    return it == h.server_connections.end() ? std::int64_t{0} : it->second;
  };
  std::int64_t total = 0;
  for (const auto& [state, n] : h.server_connections) total += n;
  return fmt::format("{} ({} active, {} idle in tx) / {}", total, count("active"),
                     count("idle in transaction") + count("idle in transaction (aborted)"),
                     h.max_connections);
}

void hosts_section(std::string& out, const MonitorSnapshot& s) {
  Table rows;
  for (const HostSnapshot& h : s.hosts) {
    const bool replica = h.role == "replica";
    rows.push_back(
        {h.cluster, h.host, h.role.empty() ? "?" : h.role, h.up ? "up" : "DOWN", connections_of(h),
         h.cache_hit_ratio < 0 ? "-" : fmt::format("{:.2f}%", h.cache_hit_ratio * 100),
         fmt::format("{:.1f}", h.transactions_per_second), std::to_string(h.deadlocks),
         replica ? fmt::format("{} B, {:.2f} s", h.lag_bytes, h.lag_seconds) : "-",
         h.up
             ? fmt::format("{:.1f} s", std::max(h.lock_wait_seconds, h.idle_in_transaction_seconds))
             : h.error.substr(0, 60)});
  }
  out += "hosts\n";
  append_table(out,
               {"cluster", "host", "role", "state", "connections", "cache hit", "tx/s", "deadlocks",
                "lag", "longest wait"},
               rows);
}

void pools_section(std::string& out, const MonitorSnapshot& s) {
  Table rows;
  for (const HostSnapshot& h : s.hosts) {
    if (!h.pool) continue;
    const PoolStats& p = *h.pool;
    const double wait_ms = p.acquired == 0 ? 0
                                           : static_cast<double>(p.acquire_wait_sum.count()) /
                                                 1000.0 / static_cast<double>(p.acquired);
    rows.push_back({h.cluster, h.host, fmt::format("{}/{}/{}", p.active, p.idle, p.total),
                    std::to_string(p.waiting), std::to_string(p.acquired),
                    fmt::format("{:.3f}", wait_ms), std::to_string(p.timeouts)});
  }
  if (rows.empty()) return;
  out += "\npools\n";
  append_table(
      out,
      {"cluster", "host", "active/idle/open", "waiting", "acquired", "mean wait ms", "timeouts"},
      rows);
}

void statements_section(std::string& out, const MonitorSnapshot& s) {
  Table rows;
  for (const StatementSnapshot& st : s.statements) {
    std::string query = st.query;
    for (char& c : query) c = c == '\n' ? ' ' : c;
    if (query.size() > 70) query = query.substr(0, 67) + "...";
    rows.push_back({fmt::format("{:.2f}", st.mean_ms), std::to_string(st.calls),
                    st.from_server ? "server" : "here", st.host, query});
  }
  out += "\nslowest statements (here: this process; server: pg_stat_statements)\n";
  if (rows.empty()) {
    out += "  (none yet)\n";
    return;
  }
  append_table(out, {"mean ms", "calls", "seen", "host", "query"}, rows);
}

void alerts_section(std::string& out, const MonitorSnapshot& s) {
  out += "\nalerts\n";
  if (s.alerts.empty()) out += "  (none)\n";
  for (const Alert& a : s.alerts) {
    out += fmt::format("  {} [{}] {}: {}\n", a.state == AlertState::firing ? "FIRING " : "pending",
                       to_string(a.severity), a.name, a.summary);
  }
}

}  // namespace

std::string to_text(const MonitorSnapshot& s) {
  std::string out;
  hosts_section(out, s);
  pools_section(out, s);
  statements_section(out, s);
  alerts_section(out, s);
  return out;
}

}  // namespace nexdb
