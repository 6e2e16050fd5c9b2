// A time series in bounded memory, for the report's charts. Samples are added
// in any order; they fall into buckets of a fixed width, aligned on multiples
// of the width since 1970, and when more than `max_buckets` exist the width
// doubles and neighbours merge. So memory is O(max_buckets) however long the
// root ran, and the result does not depend on the order of the samples.
#ifndef TXFLOW_REPORT_TIME_SERIES_H_
#define TXFLOW_REPORT_TIME_SERIES_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace txflow::report {

class TimeSeries {
 public:
  struct Bucket {
    int64_t start_ms = 0;  // first millisecond the bucket covers
    double sum = 0;        // of the values
    double max = 0;        // largest value
    uint64_t samples = 0;
  };

  // REQUIRES: min_width_ms > 0, max_buckets >= 2.
  TimeSeries() : TimeSeries(1000, 600) {}
  TimeSeries(int64_t min_width_ms, size_t max_buckets);

  void Add(int64_t at_ms, double value);

  int64_t width_ms() const { return width_ms_; }
  uint64_t samples() const { return samples_; }
  // A copy with the width doubled until the buckets hold `min_samples` samples
  // on average or only `min_buckets` remain: a rate over buckets that hold
  // one or two samples each mostly shows where the bucket edges fell.
  TimeSeries Smoothed(uint64_t min_samples, size_t min_buckets) const;

  // Buckets that received a sample, by start time.
  std::vector<Bucket> Buckets() const;

 private:
  void Widen();

  int64_t width_ms_;
  size_t max_buckets_;
  uint64_t samples_ = 0;
  std::map<int64_t, Bucket> buckets_;  // by start_ms / width_ms_
};

}  // namespace txflow::report

#endif  // TXFLOW_REPORT_TIME_SERIES_H_
