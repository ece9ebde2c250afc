#include "terminal.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace nexdb::cli {

Terminal::Terminal(std::FILE* out)
    : out_(out), interactive_(::isatty(::fileno(out)) != 0 && std::getenv("NO_COLOR") == nullptr) {}

std::string Terminal::wrap(std::string_view code, std::string_view text) const {
  if (!interactive_) return std::string(text);
  return fmt::format("\033[{}m{}\033[0m", code, text);
}

void Terminal::step(int index, int total, std::string_view title) const {
  fmt::print(out_, "\n{} {}\n", cyan(fmt::format("[{}/{}]", index, total)), bold(title));
}

void Terminal::line(std::string_view text) const { fmt::print(out_, "{}\n", text); }

void Terminal::table(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) const {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& cells, bool head) {
    std::string line = "    ";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      line += fmt::format("{:<{}}", cells[c], widths[c] + 2);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out_, "{}\n", head ? bold(line) : line);
  };
  print_row(header, true);
  for (const auto& row : rows) print_row(row, false);
}

ProgressBar::ProgressBar(const Terminal& terminal, std::string label, std::size_t total)
    : terminal_(terminal), label_(std::move(label)), total_(std::max<std::size_t>(total, 1)) {}

void ProgressBar::advance(std::size_t by) {
  done_ = std::min(total_, done_ + by);
  if (terminal_.interactive()) draw(false);
}

void ProgressBar::finish() {
  done_ = total_;
  draw(true);
}

void ProgressBar::stop() { draw(true); }

void ProgressBar::draw(bool final) {
  const int percent = static_cast<int>(done_ * 100 / total_);
  if (!final && percent == last_percent_) return;
  last_percent_ = percent;
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(kWidth - filled), '.');
  fmt::print("{}    {:<16} [{}] {:>3}%  {}/{}{}", terminal_.interactive() ? "\r" : "", label_, bar,
             percent, done_, total_, final ? "\n" : "");
  std::fflush(stdout);
}

}  // namespace nexdb::cli
