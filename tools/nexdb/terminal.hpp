// Terminal output for the nexdb command: colour only on a terminal, progress bars, tables.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace nexdb::cli {

enum class Format { text, json };

class Terminal {
 public:
  explicit Terminal(std::FILE* out = stdout);
  bool interactive() const noexcept { return interactive_; }

  std::string bold(std::string_view text) const { return wrap("1", text); }
  std::string dim(std::string_view text) const { return wrap("2", text); }
  std::string green(std::string_view text) const { return wrap("32", text); }
  std::string cyan(std::string_view text) const { return wrap("36", text); }
  std::string red(std::string_view text) const { return wrap("31", text); }

  /// A heading for one step of a longer job: "[2/5] Inserting sample data".
  void step(int index, int total, std::string_view title) const;
  void line(std::string_view text) const;
  /// An aligned table with a header row.
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows) const;

 private:
  std::string wrap(std::string_view code, std::string_view text) const;
  std::FILE* out_;
  bool interactive_;
};

/// A progress bar redrawn in place on a terminal; on a pipe it prints only the final line.
class ProgressBar {
 public:
  ProgressBar(const Terminal& terminal, std::string label, std::size_t total);
  void advance(std::size_t by);
  /// Completed: draws 100% and ends the line.
  void finish();
  /// Stopped early (an error): draws where it got to and ends the line.
  void stop();

 private:
  void draw(bool final);
  const Terminal& terminal_;
  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  int last_percent_ = -1;
};

}  // namespace nexdb::cli
