// Every command documents itself: `nexdb [path] --help` exits 0 with a description and usage,
// for every command and subcommand found by walking the help output from the top.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "cli_runner.hpp"

namespace nexdb::test {
namespace {

/// The subcommand names listed under "Subcommands:" in a help text.
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream lines(help);
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    if (line.empty() || line[0] != ' ') break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

TEST(CliHelp, EveryCommandAndSubcommandHasHelp) {
  std::vector<std::string> pending{""};
  std::size_t documented = 0;
  while (!pending.empty()) {
    const std::string path = pending.back();
    pending.pop_back();
    const CommandResult help = run_cli(path + " --help");
    ASSERT_EQ(help.exit_code, 0) << "nexdb " << path << " --help\n" << help.output;
    EXPECT_NE(help.output.find("Usage:"), std::string::npos) << path;
    EXPECT_NE(help.output.find("Exit codes:"), std::string::npos) << path;
    ++documented;
    for (const std::string& name : subcommands_in(help.output)) {
      pending.push_back(path.empty() ? name : path + " " + name);
    }
  }
  // demo, migrate (+7), replica (+1), config (+1) at the least.
  EXPECT_GE(documented, 14u);
}

TEST(CliHelp, UnknownCommandsAndBadFormatsAreUsageErrors) {
  EXPECT_EQ(run_cli("no-such-command").exit_code, 2);
  const CommandResult bad_format = run_cli("--format yaml config check");
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_NE(bad_format.output.find("yaml"), std::string::npos) << bad_format.output;
}

}  // namespace
}  // namespace nexdb::test
