// Helpers for the monitor tests: reading a value out of an exposition, running promtool, an
// alert sink that records what it was told, and a capture of the log.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "nexdb/monitor.hpp"

namespace nexdb::test {

/// The value of the first sample line that starts with `series` (name{labels...} exactly as
/// written up to the value, or a prefix of it); nullopt when there is none.
inline std::optional<double> sample_value(const std::string& text, const std::string& series) {
  for (std::size_t pos = text.find(series); pos != std::string::npos;
       pos = text.find(series, pos + 1)) {
    if (pos != 0 && text[pos - 1] != '\n') continue;
    const auto end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

struct CommandOutput {
  int exit_code = -1;
  std::string output;
};

/// Runs `command` through the shell with `input` on stdin (via a file), stdout+stderr captured.
inline CommandOutput run_with_input(const std::string& command, const std::string& input,
                                    const std::string& scratch_file) {
  std::ofstream(scratch_file) << input;
  CommandOutput out;
  FILE* pipe = ::popen((command + " < '" + scratch_file + "' 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    out.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// Remembers every alert change it is given.
class RecordingSink : public AlertSink {
 public:
  std::string_view name() const noexcept override { return "recording"; }
  void deliver(const std::vector<Alert>& changes) override {
    std::lock_guard lock(mutex_);
    for (const Alert& a : changes) alerts_.push_back(a);
  }
  std::vector<Alert> alerts() const {
    std::lock_guard lock(mutex_);
    return alerts_;
  }
  std::vector<Alert> named(const std::string& name) const {
    std::vector<Alert> out;
    for (const Alert& a : alerts()) {
      if (a.name == name) out.push_back(a);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Alert> alerts_;
};

// Captures what spdlog's default logger writes while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() { std::erase(spdlog::default_logger()->sinks(), sink_); }
  std::string text() {
    sink_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace nexdb::test
