// A real prometheus-alertmanager receives DBMonitor's alert through its v2 API, lists it as
// active, notifies its own webhook receiver, and sees the alert resolved.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "nexdb/monitor.hpp"
#include "support/service.hpp"
#include "support/test_env.hpp"

namespace nexdb {
namespace {

using Json = nlohmann::json;

// What Alertmanager forwards to its receiver: {"status": ..., "alerts": [...]} per notification.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard lock(mutex_);
      notifications_.push_back(Json::parse(req.body));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  bool received(std::string_view status, std::string_view description) {
    std::lock_guard lock(mutex_);
    for (const Json& n : notifications_) {
      for (const Json& a : n["alerts"]) {
        if (a["status"] == status && a["annotations"]["description"] == description) return true;
      }
    }
    return false;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<Json> notifications_;
};

class Alertmanager : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = test::free_port();
    const std::string config = dir_.path() + "/alertmanager.yml";
    std::ofstream(config) << fmt::format(R"(route:
  receiver: hook
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: 'http://127.0.0.1:{}/hook'
        send_resolved: true
)",
                                         receiver_.port());
    process_ = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{"prometheus-alertmanager", "--config.file=" + config,
                                 "--storage.path=" + dir_.path() + "/data",
                                 fmt::format("--web.listen-address=127.0.0.1:{}", port_),
                                 "--cluster.listen-address="},
        dir_.path() + "/alertmanager.log");
    ASSERT_TRUE(test::wait_until_ready("127.0.0.1", port_, "/-/ready")) << process_->log_tail();
  }

  // Alertmanager's active alerts about the statement `description` (the monitor also sees
  // other tests' statements running on the shared server).
  std::vector<Json> active(std::string_view description) const {
    const auto reply = test::http_get("127.0.0.1", port_, "/api/v2/alerts");
    std::vector<Json> out;
    if (reply.status != 200) return out;
    for (const Json& a : Json::parse(reply.body)) {
      if (a["annotations"]["description"] == description && a["status"]["state"] == "active") {
        out.push_back(a);
      }
    }
    return out;
  }

  test::TempDir dir_;
  Receiver receiver_;
  int port_ = 0;
  std::unique_ptr<test::ChildProcess> process_;
};

TEST_F(Alertmanager, ReceivesTheAlertAndSeesItResolved) {
  metrics::Registry registry;
  test::PgSchema schema;
  Database db = Database::open(schema.uri());
  DBMonitor monitor(db,
                    {.alert_thresholds = {{"query_duration", 200}},
                     .labels = {{"environment", "test"}},
                     .sinks = {alertmanager_sink({.url = fmt::format("http://127.0.0.1:{}", port_),
                                                  .generator_url = "http://nexdb.test/metrics"})},
                     .registry = &registry,
                     .background = false});
  monitor.sample();
  // A shape of its own (fingerprints ignore aliases and constants): other tests' pg_sleep calls
  // running on the same server count too.
  db.execute("SELECT pg_sleep(0.3)::text");
  const std::string query = "SELECT pg_sleep($1)::text";
  monitor.sample();
  ASSERT_TRUE(monitor.wait_for_notifications());
  std::vector<Json> alerts;
  ASSERT_TRUE(test::eventually([&] { return !(alerts = active(query)).empty(); }))
      << process_->log_tail();
  const Json& alert = alerts.front();
  EXPECT_EQ(alert["labels"]["environment"], "test");
  EXPECT_EQ(alert["labels"]["severity"], "warning");
  EXPECT_EQ(alert["labels"]["cluster"], "default");
  EXPECT_EQ(alert["labels"]["fingerprint"].get<std::string>().size(), 16u);
  EXPECT_EQ(alert["labels"]["alertname"], "NexdbQueryDurationHigh");
  EXPECT_EQ(alert["generatorURL"], "http://nexdb.test/metrics");
  EXPECT_TRUE(test::eventually([&] { return receiver_.received("firing", query); }));

  monitor.sample();  // nothing slow since: resolved
  ASSERT_TRUE(monitor.wait_for_notifications());
  EXPECT_TRUE(test::eventually([&] { return active(query).empty(); }));
  EXPECT_TRUE(test::eventually([&] { return receiver_.received("resolved", query); }))
      << process_->log_tail();
}

}  // namespace
}  // namespace nexdb
