// The callback and log sinks.
#include <spdlog/spdlog.h>

#include "nexdb/error.hpp"
#include "nexdb/monitor.hpp"

namespace nexdb {
namespace {

class CallbackSink final : public AlertSink {
 public:
  explicit CallbackSink(std::function<void(const Alert&)> callback)
      : callback_(std::move(callback)) {}
  std::string_view name() const noexcept override { return "callback"; }
  void deliver(const std::vector<Alert>& changes) override {
    for (const Alert& alert : changes) callback_(alert);
  }

 private:
  std::function<void(const Alert&)> callback_;
};

class LogSink final : public AlertSink {
 public:
  std::string_view name() const noexcept override { return "log"; }
  void deliver(const std::vector<Alert>& changes) override {
    for (const Alert& a : changes) {
      if (a.state == AlertState::resolved) {
        spdlog::info("nexdb alert resolved: {} ({})", a.name, a.summary);
      } else {
        spdlog::log(a.severity == Severity::critical ? spdlog::level::err : spdlog::level::warn,
                    "nexdb alert firing [{}]: {} ({})", to_string(a.severity), a.name, a.summary);
      }
    }
  }
};

}  // namespace

std::shared_ptr<AlertSink> callback_sink(std::function<void(const Alert&)> callback) {
  if (!callback) throw UsageError("callback_sink: the callback is empty");
  return std::make_shared<CallbackSink>(std::move(callback));
}

std::shared_ptr<AlertSink> log_sink() { return std::make_shared<LogSink>(); }

}  // namespace nexdb
