// Real servers for tests (prometheus, alertmanager, pushgateway, the nexdb binary): started as
// child processes on loopback with their own temp dirs, stopped (SIGTERM, then SIGKILL) when the
// handle goes away, whatever the test's outcome.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace nexdb::test {

/// A loopback TCP port nothing listens on right now (the kernel's choice).
int free_port();

class ChildProcess {
 public:
  /// Starts argv[0] (searched in PATH) with stdout and stderr appended to `log_path`.
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running();
  /// The tail of the log, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;
  /// SIGTERM, wait up to `grace`, then SIGKILL. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};
HttpReply http_get(const std::string& host, int port, const std::string& path,
                   const std::string& accept = "");
HttpReply http_post(const std::string& host, int port, const std::string& path,
                    const std::string& body, const std::string& content_type);

/// Polls GET host:port/path until it answers 200; false after `timeout`.
bool wait_until_ready(const std::string& host, int port, const std::string& path,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// Polls `condition` every 100 ms until it is true; false after `timeout`.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

}  // namespace nexdb::test
