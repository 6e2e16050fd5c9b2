#include "report/time_series.h"

#include <algorithm>

namespace txflow::report {
namespace {

// Floor division: samples before 1970 still land in the bucket below them.
int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

TimeSeries::TimeSeries(int64_t min_width_ms, size_t max_buckets)
    : width_ms_(min_width_ms), max_buckets_(max_buckets) {}

void TimeSeries::Add(int64_t at_ms, double value) {
  const int64_t index = FloorDiv(at_ms, width_ms_);
  auto [it, fresh] = buckets_.try_emplace(index);
  Bucket& b = it->second;
  if (fresh) {
    b.start_ms = index * width_ms_;
    b.max = value;
  }
  b.sum += value;
  b.max = std::max(b.max, value);
  ++b.samples;
  ++samples_;
  while (buckets_.size() > max_buckets_) Widen();
}

// Doubling keeps every old bucket inside exactly one new one, so merging
// loses nothing that the wider bucket can still say (sum, max, count).
void TimeSeries::Widen() {
  width_ms_ *= 2;
  std::map<int64_t, Bucket> merged;
  for (const auto& [index, b] : buckets_) {
    const int64_t wide = FloorDiv(index, 2);
    auto [it, fresh] = merged.try_emplace(wide, b);
    if (fresh) {
      it->second.start_ms = wide * width_ms_;
      continue;
    }
    it->second.sum += b.sum;
    it->second.max = std::max(it->second.max, b.max);
    it->second.samples += b.samples;
  }
  buckets_ = std::move(merged);
}

TimeSeries TimeSeries::Smoothed(uint64_t min_samples,
                                size_t min_buckets) const {
  TimeSeries out = *this;
  while (out.buckets_.size() > min_buckets &&
         out.samples_ < min_samples * out.buckets_.size()) {
    out.Widen();
  }
  return out;
}

std::vector<TimeSeries::Bucket> TimeSeries::Buckets() const {
  std::vector<Bucket> out;
  out.reserve(buckets_.size());
  for (const auto& [index, b] : buckets_) out.push_back(b);
  return out;
}

}  // namespace txflow::report
