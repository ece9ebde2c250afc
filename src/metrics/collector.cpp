// MetricsCollector: the HTTP endpoint and the Pushgateway pusher over a registry.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/http.hpp"
#include "metrics/pushgateway.hpp"
#include "nexdb/config.hpp"
#include "nexdb/error.hpp"
#include "nexdb/metrics.hpp"

namespace nexdb {

using metrics::ExpositionFormat;

struct MetricsCollector::Impl {
  MetricsSettings settings;
  metrics::Registry* registry = nullptr;
  std::optional<http::Url> gateway;

  std::mutex pages_mutex;
  std::function<HealthReport()> health;
  struct Page {
    std::string content_type;
    std::function<std::string()> render;
  };
  std::map<std::string, Page, std::less<>> pages;

  std::unique_ptr<http::Server> server;
  std::thread pusher;
  std::mutex push_mutex;
  std::condition_variable push_wake;
  bool stopping = false;
  bool push_failing = false;

  std::string scrape(ExpositionFormat format) const {
    return registry->expose(format, settings.labels);
  }
  // The Pushgateway adds the grouping labels itself and rejects a pushed label that conflicts.
  std::string push_body() const {
    metrics::Labels labels = settings.labels;
    for (const auto& [name, value] : settings.grouping) labels.erase(name);
    return registry->expose(ExpositionFormat::prometheus, labels);
  }
  void push() {
    metrics::detail::push_to_gateway(*gateway, settings.job, settings.grouping, push_body(),
                                     std::chrono::seconds(5));
  }
  http::Response handle(const http::Request& request);
  void run_pusher();
};

namespace {

void validate(const MetricsSettings& s) {
  if (s.storage != "prometheus") {
    throw ConfigError(
        fmt::format("metrics storage '{}' is not supported (known: prometheus)", s.storage));
  }
  for (const auto& [name, value] : s.labels) {
    if (auto problem = metrics::check_label_name(name))
      throw ConfigError("metrics label " + *problem);
  }
  for (const auto& [name, value] : s.grouping) {
    if (auto problem = metrics::check_label_name(name))
      throw ConfigError("grouping label " + *problem);
  }
  if (!s.pushgateway.empty() && s.job.empty()) {
    throw ConfigError("pushing to a Pushgateway needs a job name (MetricsSettings::job)");
  }
}

constexpr std::string_view index_page =
    "<!doctype html><title>nexdb</title><h1>nexdb metrics</h1>"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>"
    "<li><a href=\"/healthz\">/healthz</a></li></ul>\n";

}  // namespace

http::Response MetricsCollector::Impl::handle(const http::Request& request) {
  if (request.path == "/metrics") {
    const ExpositionFormat format = metrics::negotiate(request.accept);
    return {.content_type = std::string(metrics::content_type(format)), .body = scrape(format)};
  }
  std::unique_lock lock(pages_mutex);
  if (request.path == "/healthz") {
    const auto check = health;
    lock.unlock();
    const HealthReport report = check ? check() : HealthReport{};
    std::string body = report.body.empty()
                           ? (report.healthy ? R"({"status":"ok"})" : R"({"status":"unhealthy"})")
                           : report.body;
    return {.status = report.healthy ? 200 : 503,
            .content_type = "application/json",
            .body = body + "\n"};
  }
  if (auto it = pages.find(request.path); it != pages.end()) {
    Page page = it->second;
    lock.unlock();
    try {
      return {.content_type = page.content_type, .body = page.render()};
    } catch (const std::exception& e) {
      return {.status = 503, .body = fmt::format("{}\n", e.what())};
    }
  }
  if (request.path == "/")
    return {.content_type = "text/html; charset=utf-8", .body = std::string(index_page)};
  return {.status = 404, .body = "not found: try /metrics or /healthz\n"};
}

void MetricsCollector::Impl::run_pusher() {
  std::unique_lock lock(push_mutex);
  while (true) {
    push_wake.wait_for(lock, settings.export_interval, [&] { return stopping; });
    const bool last = stopping;  // a final push on shutdown, so short jobs report their end state
    lock.unlock();
    try {
      push();
      if (push_failing)
        spdlog::info("nexdb metrics: pushing to {} works again", gateway->display());
      push_failing = false;
    } catch (const std::exception& e) {
      if (!push_failing) spdlog::warn("nexdb metrics: {}", e.what());
      push_failing = true;
    }
    lock.lock();
    if (last) return;
  }
}

MetricsCollector::MetricsCollector(MetricsSettings settings) : impl_(std::make_unique<Impl>()) {
  validate(settings);
  impl_->settings = std::move(settings);
  const MetricsSettings& s = impl_->settings;
  impl_->registry = s.registry != nullptr ? s.registry : &metrics::Registry::global();
  if (!s.pushgateway.empty()) impl_->gateway = http::parse_url(s.pushgateway);
  if (!s.listen.empty()) {
    impl_->server = std::make_unique<http::Server>(
        s.listen, [impl = impl_.get()](const http::Request& r) { return impl->handle(r); });
  }
  if (impl_->gateway && s.export_interval.count() > 0) {
    impl_->pusher = std::thread([impl = impl_.get()] { impl->run_pusher(); });
  }
}

MetricsSettings MetricsCollector::settings_from(const MetricsConfig& config) {
  return MetricsSettings{.export_interval = config.export_interval,
                         .labels = metrics::Labels(config.labels.begin(), config.labels.end()),
                         .listen = config.listen,
                         .pushgateway = config.pushgateway_url,
                         .job = config.job};
}

MetricsCollector::~MetricsCollector() {
  impl_->server.reset();
  {
    std::lock_guard lock(impl_->push_mutex);
    impl_->stopping = true;
  }
  impl_->push_wake.notify_all();
  if (impl_->pusher.joinable()) impl_->pusher.join();
}

metrics::Registry& MetricsCollector::registry() noexcept { return *impl_->registry; }
const MetricsSettings& MetricsCollector::settings() const noexcept { return impl_->settings; }

std::string MetricsCollector::scrape(ExpositionFormat format) const {
  return impl_->scrape(format);
}

void MetricsCollector::push() {
  if (!impl_->gateway) throw UsageError("MetricsCollector::push(): no pushgateway URL configured");
  impl_->push();
}

int MetricsCollector::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

std::string MetricsCollector::url() const {
  if (!impl_->server) return {};
  const std::string& host = impl_->server->host();
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", impl_->server->port());
}

void MetricsCollector::set_health_check(std::function<HealthReport()> check) {
  std::lock_guard lock(impl_->pages_mutex);
  impl_->health = std::move(check);
}

void MetricsCollector::add_page(std::string path, std::string content_type,
                                std::function<std::string()> render) {
  std::lock_guard lock(impl_->pages_mutex);
  impl_->pages.insert_or_assign(std::move(path),
                                Impl::Page{std::move(content_type), std::move(render)});
}

}  // namespace nexdb
