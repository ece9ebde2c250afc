// The webhook sink (Alertmanager's webhook payload) and the Alertmanager sink (its v2 API).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http/http.hpp"
#include "monitor/notifier.hpp"
#include "monitor/rules.hpp"
#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::system_clock;

Json annotations_of(const Alert& a) {
  Json out = {{"summary", a.summary},
              {"value", monitor_detail::format_value(a.value, "")},
              {"threshold", monitor_detail::format_value(a.threshold, "")}};
  if (!a.description.empty()) out["description"] = a.description;
  return out;
}

// One alert as Alertmanager's API (and its webhook payload) spell it. A firing alert is valid
// until `valid_until`; a resolved one ended when it resolved.
Json alert_json(const Alert& a, Clock::time_point valid_until, const std::string& generator) {
  const bool resolved = a.state == AlertState::resolved;
  Json out = {{"labels", a.labels},
              {"annotations", annotations_of(a)},
              {"startsAt", monitor_detail::rfc3339(a.fired_at)},
              {"endsAt", monitor_detail::rfc3339(resolved ? a.resolved_at : valid_until)}};
  if (!generator.empty()) out["generatorURL"] = generator;
  return out;
}

class WebhookSink final : public AlertSink {
 public:
  explicit WebhookSink(WebhookSettings settings)
      : settings_(std::move(settings)), url_(http::parse_url(settings_.url)) {
    if (settings_.attempts < 1) throw ConfigError("webhook_sink: attempts must be at least 1");
    for (const auto& [name, value] : settings_.headers) headers_.push_back({name, value});
  }
  std::string_view name() const noexcept override { return "webhook"; }

  void deliver(const std::vector<Alert>& changes) override {
    Json alerts = Json::array();
    bool any_firing = false;
    for (const Alert& a : changes) {
      Json item = alert_json(a, {}, "");
      item["status"] = to_string(a.state);
      if (a.state != AlertState::resolved) {
        any_firing = true;
        item["endsAt"] = "0001-01-01T00:00:00Z";  // Alertmanager's "not ended"
      }
      alerts.push_back(std::move(item));
    }
    const Json body = {{"version", "4"},
                       {"receiver", "nexdb"},
                       {"status", any_firing ? "firing" : "resolved"},
                       {"alerts", alerts}};
    post(body.dump());
  }

 private:
  void post(const std::string& body) {
    std::string last;
    auto pause = std::chrono::milliseconds(500);
    for (int attempt = 1; attempt <= settings_.attempts; ++attempt) {
      const http::Result r =
          http::send("POST", url_, "", body, "application/json", settings_.timeout, headers_);
      if (r.ok()) return;
      last = r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 200));
      if (attempt < settings_.attempts) std::this_thread::sleep_for(pause);
      pause *= 2;
    }
    throw ConnectionError(fmt::format("webhook {}: {}", url_.display(), last));
  }

  WebhookSettings settings_;
  http::Url url_;
  std::vector<http::Header> headers_;
};

class AlertmanagerSink final : public AlertSink {
 public:
  explicit AlertmanagerSink(AlertmanagerSettings settings)
      : settings_(std::move(settings)), url_(http::parse_url(settings_.url)) {
    if (settings_.resend_interval.count() <= 0)
      throw ConfigError("alertmanager_sink: resend_interval must be positive");
  }
  std::string_view name() const noexcept override { return "alertmanager"; }

  void deliver(const std::vector<Alert>& changes) override { post(changes); }

  void still_firing(const std::vector<Alert>& firing) override {
    if (firing.empty() || Clock::now() - last_sent_ < settings_.resend_interval) return;
    post(firing);
  }

 private:
  void post(const std::vector<Alert>& alerts) {
    const auto valid_until = Clock::now() + 4 * settings_.resend_interval;
    Json body = Json::array();
    for (const Alert& a : alerts)
      body.push_back(alert_json(a, valid_until, settings_.generator_url));
    const http::Result r = http::send("POST", url_, "/api/v2/alerts", body.dump(),
                                      "application/json", settings_.timeout);
    if (!r.ok()) {
      throw ConnectionError(fmt::format(
          "Alertmanager {}: {}", url_.display(),
          r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 200))));
    }
    last_sent_ = Clock::now();
  }

  AlertmanagerSettings settings_;
  http::Url url_;
  Clock::time_point last_sent_{};
};

}  // namespace

std::shared_ptr<AlertSink> webhook_sink(WebhookSettings settings) {
  return std::make_shared<WebhookSink>(std::move(settings));
}

std::shared_ptr<AlertSink> alertmanager_sink(AlertmanagerSettings settings) {
  return std::make_shared<AlertmanagerSink>(std::move(settings));
}

}  // namespace nexdb
