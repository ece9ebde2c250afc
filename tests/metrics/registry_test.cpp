// The registry, its instruments and the exposition formats, without a server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "nexdb/error.hpp"
#include "nexdb/metrics.hpp"

namespace nexdb::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Registry, CounterGaugeAndHistogramInTheTextFormat) {
  Registry r;
  r.counter("app_requests_total", "Requests served", {"route"}).with({"/"}).inc(3);
  r.gauge("app_temperature", "Degrees").with({}).set(21.5);
  auto& h = r.histogram("app_latency_seconds", "Latency", {}, {0.1, 1});
  h.with({}).observe(0.05);
  h.with({}).observe(0.5);
  h.with({}).observe(7);
  const std::string text = r.expose();
  EXPECT_THAT(
      text,
      HasSubstr("# HELP app_requests_total Requests served\n# TYPE app_requests_total counter\n"
                "app_requests_total{route=\"/\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE app_temperature gauge\napp_temperature 21.5\n"));
  EXPECT_THAT(text, HasSubstr("app_latency_seconds_bucket{le=\"0.1\"} 1\n"
                              "app_latency_seconds_bucket{le=\"1\"} 2\n"
                              "app_latency_seconds_bucket{le=\"+Inf\"} 3\n"
                              "app_latency_seconds_sum 7.55\n"
                              "app_latency_seconds_count 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("# EOF")));
}

TEST(Registry, ConstantLabelsComeFirstAndTheFamilysOwnLabelWins) {
  Registry r;
  r.gauge("g", "G", {"service"}).with({"mine"}).set(1);
  r.gauge("h", "H", {"x"}).with({"1"}).set(2);
  const std::string text =
      r.expose(ExpositionFormat::prometheus, {{"environment", "prod"}, {"service", "api"}});
  EXPECT_THAT(text, HasSubstr("g{environment=\"prod\",service=\"mine\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("h{environment=\"prod\",service=\"api\",x=\"1\"} 2\n"));
}

TEST(Registry, LabelValuesAreEscaped) {
  Registry r;
  r.gauge("q", "Queries", {"query"}).with({"SELECT \"a\\b\"\nFROM t"}).set(1);
  EXPECT_THAT(r.expose(), HasSubstr("q{query=\"SELECT \\\"a\\\\b\\\"\\nFROM t\"} 1\n"));
}

TEST(Registry, OpenMetricsNamesCountersWithoutTotalAndEnds) {
  Registry r;
  r.counter("jobs_total", "Jobs \"done\"").with({}).inc();
  const std::string text = r.expose(ExpositionFormat::openmetrics);
  EXPECT_THAT(text,
              HasSubstr("# HELP jobs Jobs \\\"done\\\"\n# TYPE jobs counter\njobs_total 1\n"));
  EXPECT_TRUE(text.ends_with("# EOF\n"));
}

// OpenMetrics: a counter's samples always end in _total, and `le` bounds are canonical floats.
TEST(Registry, OpenMetricsCounterSamplesAndCanonicalBounds) {
  Registry r;
  r.counter("retries", "Retries").with({}).inc(2);
  r.histogram("wait_seconds", "Wait", {}, {0.5, 1, 10, 1e21}).with({}).observe(0.7);
  const std::string open = r.expose(ExpositionFormat::openmetrics);
  EXPECT_THAT(open, HasSubstr("# TYPE retries counter\nretries_total 2\n"));
  EXPECT_THAT(open, HasSubstr("wait_seconds_bucket{le=\"0.5\"} 0\n"
                              "wait_seconds_bucket{le=\"1.0\"} 1\n"
                              "wait_seconds_bucket{le=\"10.0\"} 1\n"
                              "wait_seconds_bucket{le=\"1e+21\"} 1\n"
                              "wait_seconds_bucket{le=\"+Inf\"} 1\n"));
  const std::string text = r.expose();
  EXPECT_THAT(text, HasSubstr("# TYPE retries counter\nretries 2\n"));
  EXPECT_THAT(text, HasSubstr("wait_seconds_bucket{le=\"1\"} 1\n"));
}

TEST(Registry, SpecialValues) {
  Registry r;
  auto& g = r.gauge("v", "V", {"k"});
  g.with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  g.with({"inf"}).set(std::numeric_limits<double>::infinity());
  g.with({"small"}).set(0.000123);
  g.with({"big"}).set(12345678901.0);
  const std::string text = r.expose();
  EXPECT_THAT(text, HasSubstr("v{k=\"nan\"} NaN\n"));
  EXPECT_THAT(text, HasSubstr("v{k=\"inf\"} +Inf\n"));
  EXPECT_THAT(text, HasSubstr("v{k=\"small\"} 0.000123\n"));
  EXPECT_THAT(text, HasSubstr("v{k=\"big\"} 12345678901\n"));
}

TEST(Registry, SameNameSameShapeIsTheSameFamily) {
  Registry r;
  auto& a = r.counter("c_total", "C", {"x"});
  auto& b = r.counter("c_total", "C again", {"x"});
  EXPECT_EQ(&a, &b);
  a.with({"1"}).inc();
  EXPECT_EQ(b.with({"1"}).value(), 1);
}

TEST(Registry, ConflictsAndBadNamesAreUsageErrors) {
  Registry r;
  r.counter("c_total", "C", {"x"});
  EXPECT_THROW(r.gauge("c_total", "C"), UsageError);
  EXPECT_THROW(r.counter("c_total", "C", {"y"}), UsageError);
  EXPECT_THROW(r.gauge("9lives", "bad"), UsageError);
  EXPECT_THROW(r.gauge("ok", "bad label", {"__reserved"}), UsageError);
  EXPECT_THROW(r.gauge("ok2", "bad label", {"a-b"}), UsageError);
  EXPECT_THROW(r.gauge("ok3", "twice", {"a", "a"}), UsageError);
  EXPECT_THROW(r.histogram("h", "le label", {"le"}), UsageError);
  EXPECT_THROW(r.histogram("h2", "unsorted", {}, {1, 0.5}), UsageError);
  EXPECT_THROW(r.histogram("h3", "empty", {}, {}), UsageError);
  EXPECT_THROW(r.counter("c_total", "C", {"x"}).with({"1", "2"}), UsageError);
}

TEST(Registry, CountersNeverGoDownAndSeriesCanBeRemoved) {
  Registry r;
  auto& family = r.counter("c_total", "C", {"x"});
  family.with({"a"}).inc(2);
  family.with({"a"}).inc(-5);
  EXPECT_EQ(family.with({"a"}).value(), 2);
  family.with({"b"});
  EXPECT_EQ(r.series_count(), 2u);
  EXPECT_TRUE(family.remove({"a"}));
  EXPECT_FALSE(family.remove({"a"}));
  EXPECT_THAT(r.expose(), Not(HasSubstr("x=\"a\"")));
  EXPECT_THAT(r.expose(), HasSubstr("c_total{x=\"b\"} 0"));
}

TEST(Registry, EmptyFamiliesAreNotExposed) {
  Registry r;
  r.gauge("unused", "Nothing yet", {"x"});
  EXPECT_EQ(r.expose(), "");
}

TEST(Registry, CollectHooksRunAtEveryExpositionUntilRemoved) {
  Registry r;
  auto& g = r.gauge("polled", "P").with({});
  int calls = 0;
  const auto id = r.add_collect_hook([&] { g.set(++calls); });
  EXPECT_THAT(r.expose(), HasSubstr("polled 1\n"));
  EXPECT_THAT(r.expose(), HasSubstr("polled 2\n"));
  r.remove_collect_hook(id);
  EXPECT_THAT(r.expose(), HasSubstr("polled 2\n"));
}

TEST(Histogram, BucketsAreUpperBoundsInclusive) {
  Histogram h(std::make_shared<const std::vector<double>>(std::vector<double>{1, 2}));
  h.observe(1);
  h.observe(1.5);
  h.observe(2);
  h.observe(3);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{1, 3, 4}));
  EXPECT_EQ(s.count(), 4u);
  EXPECT_DOUBLE_EQ(s.sum, 7.5);
  const std::uint64_t counts[] = {5, 0, 1};
  h.set_counts(counts, 0.25);
  EXPECT_EQ(h.snapshot().cumulative, (std::vector<std::uint64_t>{5, 5, 6}));
}

TEST(Histogram, ExponentialBuckets) {
  EXPECT_EQ(exponential_buckets(0.001, 10, 3), (std::vector<double>{0.001, 0.01, 0.1}));
  EXPECT_THROW(exponential_buckets(0, 2, 3), UsageError);
}

TEST(Registry, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  auto& family = r.counter("hits_total", "Hits", {"thread"});
  auto& shared = r.counter("shared_total", "Shared").with({});
  auto& latency = r.histogram("lat_seconds", "L").with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = family.with({std::to_string(t)});
      for (int i = 0; i < 10000; ++i) {
        mine.inc();
        shared.inc();
        latency.observe(0.001 * (i % 10));
        if (i % 1000 == 0) (void)r.expose();  // scrapes while recording
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.value(), 40000);
  EXPECT_EQ(latency.snapshot().count(), 40000u);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(family.with({std::to_string(t)}).value(), 10000);
}

TEST(Exposition, ContentNegotiation) {
  EXPECT_EQ(negotiate("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
            ExpositionFormat::openmetrics);
  EXPECT_EQ(negotiate("text/plain"), ExpositionFormat::prometheus);
  EXPECT_EQ(negotiate(""), ExpositionFormat::prometheus);
  EXPECT_THAT(std::string(content_type(ExpositionFormat::prometheus)), HasSubstr("version=0.0.4"));
  EXPECT_THAT(std::string(content_type(ExpositionFormat::openmetrics)),
              HasSubstr("application/openmetrics-text"));
}

}  // namespace
}  // namespace nexdb::metrics
