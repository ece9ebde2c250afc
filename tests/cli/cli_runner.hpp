// Runs the real nexdb binary and captures its output and exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace nexdb::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// Runs a shell command line in `directory`, capturing stdout and stderr.
inline CommandResult run_cli_command(const std::string& command_line, const std::string& directory = ".") {
  const std::string command = "cd '" + directory + "' && " + command_line + " 2>&1";
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline CommandResult run_cli(const std::string& arguments, const std::string& directory = ".",
                             const std::string& environment = "") {
  return run_cli_command(environment + " '" NEXDB_CLI_PATH "' " + arguments, directory);
}

}  // namespace nexdb::test
