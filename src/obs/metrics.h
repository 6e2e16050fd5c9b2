// A metrics registry with the Prometheus text exposition format (0.0.4).
//
// Metrics are registered once, with their full label set fixed at
// registration (a family is a name; each call with new label values adds a
// series to it). Updating a registered metric is one relaxed atomic operation:
// no lock, no allocation, safe from any thread, so the hot paths call it
// freely. Render() walks the registry under its mutex and formats the text;
// it is what a scrape costs.
//
// Names follow the Prometheus conventions (base units, `_total` for counters,
// `_seconds`, `_bytes`); the registry checks the name and label syntax and
// that a family keeps one type, help and label-name list.
//
// Thread-safety: registration and Render() take the registry's mutex; the
// returned references stay valid for the registry's lifetime.
#ifndef TXFLOW_OBS_METRICS_H_
#define TXFLOW_OBS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace txflow::obs {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Buckets are upper bounds (le), ascending; +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count of bucket i (i == bounds().size() is +Inf), sum, count.
  uint64_t cumulative(size_t i) const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

class Registry {
 public:
  // Abort on a malformed name or label, or a family registered before with
  // another type, help or label names: these are programming errors.
  Counter& AddCounter(const std::string& name, const std::string& help,
                      const Labels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help,
                  const Labels& labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds,
                          const Labels& labels = {});
  // A gauge (or counter) whose value `read` computes at scrape time, for
  // values another component already holds (ages, process-wide counters).
  // `read` is called under the registry's mutex from the scraping thread.
  void AddGaugeFunc(const std::string& name, const std::string& help,
                    std::function<double()> read, const Labels& labels = {});
  void AddCounterFunc(const std::string& name, const std::string& help,
                      std::function<double()> read, const Labels& labels = {});

  // The text exposition format 0.0.4: for each family in registration order
  // "# HELP", "# TYPE", then its series in registration order.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::string> label_names;
    std::vector<Series> series;
  };
  Series& Add(const std::string& name, const std::string& help, Type type,
              const Labels& labels);
  static void RenderSeries(const Family& f, const Series& s, std::string* out);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// Prometheus text format helpers, exposed for the tests.
// A sample value: shortest round-trip decimal, "+Inf", "-Inf" or "NaN".
std::string FormatSampleValue(double v);
// A label value with \\, \" and \n escaped.
std::string EscapeLabelValue(const std::string& v);
// A HELP text with \\ and \n escaped.
std::string EscapeHelp(const std::string& v);

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_METRICS_H_
