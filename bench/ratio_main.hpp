// A benchmark main() that also prints, for declared pairs, nexdb's time over its baseline's.
// Usage in a bench file:   NEXDB_BENCHMARK_MAIN({{"BM_nexdb_x", "BM_baseline_x"}, ...})
#pragma once

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nexdb::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    // With --benchmark_repetitions the median aggregate stands for the benchmark; otherwise the
    // single iteration run does.
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
        times_[name] = run.GetAdjustedRealTime();
        medians_[name] = true;
      } else if (run.run_type == Run::RT_Iteration && !medians_[name]) {
        times_[name] = run.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios(const std::vector<std::pair<std::string, std::string>>& pairs) const {
    bool header = false;
    for (const auto& [ours, baseline] : pairs) {
      auto a = times_.find(ours);
      auto b = times_.find(baseline);
      if (a == times_.end() || b == times_.end() || b->second <= 0) continue;
      if (!header) fmt::print("\nratio (nexdb / baseline, real time, median when repeated; lower is better)\n");
      header = true;
      fmt::print("  {:<48} / {:<40} = {:.3f}x\n", ours, baseline, a->second / b->second);
    }
  }

 private:
  std::map<std::string, double> times_;
  std::map<std::string, bool> medians_;
};

inline int run_with_ratios(int argc, char** argv, const std::vector<std::pair<std::string, std::string>>& pairs) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios(pairs);
  benchmark::Shutdown();
  return 0;
}

}  // namespace nexdb::bench

#define NEXDB_BENCHMARK_MAIN(...) \
  int main(int argc, char** argv) { return nexdb::bench::run_with_ratios(argc, argv, __VA_ARGS__); }
