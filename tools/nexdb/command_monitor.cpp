// `nexdb serve`, `nexdb monitor` and `nexdb monitor rules`.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>

#include <fstream>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb::cli {
namespace {

struct MonitorCommandOptions {
  std::string cluster{};  // only this cluster (default: all)
  std::string listen{};   // serve: overrides [metrics] listen
  long interval_ms = 0;   // overrides [monitor] interval_ms
  bool once = false;      // monitor: one snapshot, then exit
  std::string url{};      // monitor: show the monitor another process serves
  std::string output{};   // rules: write here instead of stdout
};

// SIGINT/SIGTERM are blocked before any thread starts, so every thread inherits the mask and
// the main thread alone receives them, through sigwait.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  void wait() const {
    int signal = 0;
    sigwait(&set_, &signal);
  }
  /// True when a stop signal arrived within `timeout`.
  bool wait_for(std::chrono::milliseconds timeout) const {
    const timespec ts{.tv_sec = timeout.count() / 1000,
                      .tv_nsec = (timeout.count() % 1000) * 1000000};
    return sigtimedwait(&set_, nullptr, &ts) > 0;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

MonitorSettings monitor_settings(const Config& config, const MonitorCommandOptions& options,
                                 bool background) {
  MonitorSettings settings = DBMonitor::settings_from(config);
  if (options.interval_ms > 0) settings.interval = std::chrono::milliseconds(options.interval_ms);
  settings.background = background;
  return settings;
}

void watch_clusters(DBMonitor& monitor, const Config& config, const std::string& only) {
  bool any = false;
  for (const ClusterConfig& cluster : config.clusters) {
    if (!only.empty() && cluster.name != only) continue;
    monitor.watch(cluster);
    any = true;
  }
  if (!any) throw ConfigError(fmt::format("no cluster named '{}' in the configuration", only));
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string dashboard(const DBMonitor& monitor) {
  return fmt::format(
      "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">"
      "<title>nexdb</title><h1>nexdb</h1><p><a href=\"/metrics\">/metrics</a> · "
      "<a href=\"/healthz\">/healthz</a></p><pre>{}</pre>\n",
      html_escape(to_text(monitor.snapshot())));
}

bool all_up(const MonitorSnapshot& snapshot) {
  return std::all_of(snapshot.hosts.begin(), snapshot.hosts.end(),
                     [](const HostSnapshot& h) { return h.up; });
}

/// Serves until SIGINT/SIGTERM. Exit 0; 2 for a configuration error; 1 when the address is taken.
int run_serve(const GlobalOptions& global, const MonitorCommandOptions& options) {
  const Config config = load_config(global);
  MetricsSettings metrics = MetricsCollector::settings_from(config.metrics);
  if (!options.listen.empty()) metrics.listen = options.listen;
  if (metrics.listen.empty()) {
    throw ConfigError("nexdb serve needs an address: --listen 127.0.0.1:9477 or [metrics] listen");
  }
  const StopSignals signals;
  DBMonitor monitor(monitor_settings(config, options, true));
  watch_clusters(monitor, config, options.cluster);
  MetricsCollector collector(metrics);
  monitor.serve_on(collector);
  collector.add_page("/", "text/html; charset=utf-8", [&] { return dashboard(monitor); });
  fmt::print(
      "nexdb serve: metrics on {}/metrics, health on {}/healthz, dashboard on {}/ (Ctrl-C stops)\n",
      collector.url(), collector.url(), collector.url());
  std::fflush(stdout);
  signals.wait();
  fmt::print("nexdb serve: stopping\n");
  return 0;
}

// Where the view's snapshots come from: a monitor of this process over the configured clusters,
// or the one another process serves (--url: its pools and statements too).
class SnapshotSource {
 public:
  SnapshotSource(const GlobalOptions& global, const MonitorCommandOptions& options)
      : url_(options.url), cluster_(options.cluster) {
    if (!url_.empty()) {
      interval_ = std::chrono::milliseconds(options.interval_ms > 0 ? options.interval_ms : 2000);
      return;
    }
    const Config config = load_config(global);
    monitor_.emplace(monitor_settings(config, options, false));
    watch_clusters(*monitor_, config, options.cluster);
    interval_ = monitor_->settings().interval;
  }
  std::chrono::milliseconds interval() const { return interval_; }
  std::string_view url() const { return url_; }
  /// Rates (transactions/s, cache hits) need two samples: a one-shot view takes them 1 s apart.
  void prime() {
    if (!monitor_) return;
    monitor_->sample();
    std::this_thread::sleep_for(std::min(interval_, std::chrono::milliseconds(1000)));
  }
  MonitorSnapshot next() {
    if (!monitor_) return only_cluster(fetch_snapshot(url_));
    monitor_->sample();
    return monitor_->snapshot();
  }

 private:
  MonitorSnapshot only_cluster(MonitorSnapshot s) const {
    if (cluster_.empty()) return s;
    std::erase_if(s.hosts, [&](const HostSnapshot& h) { return h.cluster != cluster_; });
    std::erase_if(s.statements,
                  [&](const StatementSnapshot& st) { return st.cluster != cluster_; });
    std::erase_if(s.alerts, [&](const Alert& a) {
      const auto it = a.labels.find("cluster");
      return it != a.labels.end() && it->second != cluster_;
    });
    return s;
  }

  std::string url_;
  std::string cluster_;
  std::optional<DBMonitor> monitor_;
  std::chrono::milliseconds interval_{2000};
};

/// Refreshes on a terminal until Ctrl-C; one snapshot otherwise (exit 1 if a host is down).
int run_monitor_view(const GlobalOptions& global, const MonitorCommandOptions& options) {
  const StopSignals signals;
  SnapshotSource source(global, options);
  const Terminal term;
  const bool live = !options.once && global.format == Format::text && term.interactive();
  if (!live) source.prime();
  while (true) {
    std::string body;
    MonitorSnapshot snapshot;
    try {
      snapshot = source.next();
      body = global.format == Format::json ? to_json(snapshot) + "\n" : to_text(snapshot);
    } catch (const ConnectionError& e) {
      if (!live) throw;
      body = fmt::format("{}\n", e.what());  // the other process may come back: keep trying
    }
    if (global.format == Format::json) {
      fmt::print("{}", body);
    } else {
      if (live) fmt::print("\033[H\033[2J");
      const std::string from = source.url().empty() ? "" : fmt::format("{}  ", source.url());
      fmt::print("{}  {}{}\n\n{}", term.bold("nexdb monitor"), from,
                 live ? fmt::format("every {} ms, Ctrl-C to stop", source.interval().count()) : "",
                 body);
    }
    std::fflush(stdout);
    if (!live) return all_up(snapshot) ? 0 : 1;
    if (signals.wait_for(source.interval())) return 0;
  }
}

int run_monitor_rules(const GlobalOptions& global, const MonitorCommandOptions& options) {
  const Config config = load_config(global);
  metrics::Registry scratch;  // rules only: nothing to export
  MonitorSettings settings = monitor_settings(config, options, false);
  settings.registry = &scratch;
  settings.sinks = {callback_sink([](const Alert&) {})};
  const DBMonitor monitor(settings);
  const std::string yaml = prometheus_rules(monitor.rules(), settings.interval);
  if (options.output.empty()) {
    fmt::print("{}", yaml);
    return 0;
  }
  std::ofstream out(options.output, std::ios::trunc);
  out << yaml;
  if (!out) throw Error(fmt::format("cannot write {}", options.output));
  fmt::print(stderr, "nexdb: wrote {} rules to {}\n", monitor.rules().size(), options.output);
  return 0;
}

}  // namespace

void add_monitor_commands(CLI::App& app, const GlobalOptions& global, CommandRegistry& registry) {
  auto options = std::make_shared<MonitorCommandOptions>();
  auto* serve = app.add_subcommand("serve",
                                   "Serve Prometheus metrics of every cluster at /metrics, health "
                                   "at /healthz and a dashboard at /");
  serve->add_option("--listen", options->listen,
                    "host:port (default: [metrics] listen, 127.0.0.1:9477)");
  serve->add_option("--cluster", options->cluster, "Only this cluster");
  serve
      ->add_option("--interval-ms", options->interval_ms,
                   "Sampling interval (default: [monitor] interval_ms)")
      ->check(CLI::PositiveNumber);
  auto* monitor = app.add_subcommand(
      "monitor", "Live view of every cluster: hosts, connections, lag, slowest statements, alerts");
  monitor->require_subcommand(0, 1);
  monitor->add_option("--cluster", options->cluster, "Only this cluster");
  monitor
      ->add_option("--interval-ms", options->interval_ms,
                   "Refresh interval (default: [monitor] interval_ms)")
      ->check(CLI::PositiveNumber);
  monitor->add_flag("--once", options->once,
                    "Print one snapshot and exit (exit 1 if a host is down)");
  monitor->add_option("--url", options->url,
                      "Show the monitor another process serves (DBMonitor::serve_on, nexdb serve), "
                      "e.g. http://127.0.0.1:9477: its pools and statements too");
  auto* rules = monitor->add_subcommand(
      "rules", "Write the configured alerts as a Prometheus alerting rules file");
  rules->add_option("--output,-o", options->output, "File to write (default: stdout)");
  registry.on(serve, [&global, options] { return run_serve(global, *options); });
  registry.on(monitor, [&global, options] { return run_monitor_view(global, *options); });
  registry.on(rules, [&global, options] { return run_monitor_rules(global, *options); });
}

}  // namespace nexdb::cli
