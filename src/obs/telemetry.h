// The metrics txflow exports (names fixed in docs/formats.md, "Metrics") and
// the per-mechanism state that health and alerts are judged on. One
// process-wide instance: `txflow run` has X and Y in one process, labelled by
// `mechanism`; the loops update it with relaxed atomics (per tick, per poll,
// per chunk; never per record).
//
// Thread-safe.
#ifndef TXFLOW_OBS_TELEMETRY_H_
#define TXFLOW_OBS_TELEMETRY_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "obs/metrics.h"
#include "txflow/file_system.h"

namespace txflow::obs {

enum class Mechanism { kX = 0, kY = 1 };
inline constexpr std::array<const char*, 2> kMechanismNames = {"x", "y"};

// The labels of txflow_bad_rows_total{reason}: the detector's quarantine
// reasons, grouped (the reason text itself holds row values).
inline constexpr std::array<const char*, 9> kBadRowReasons = {
    "field_count",  "empty_customer", "empty_merchant",
    "empty_gender", "empty_amount",   "empty_category",
    "bad_amount",   "amount_range",   "malformed_csv"};
// The label for a quarantine file's reason text.
std::string_view BadRowReasonLabel(std::string_view reason);

// What one mechanism is doing, as the loop last reported it.
class MechanismState {
 public:
  void Progress(int64_t now_ms);  // work done (records taken, chunks, files)
  void SetBacklog(double units) { backlog_.store(units); }
  void Failing(std::string reason);   // the last step failed, retrying
  void Healthy();                     // the last step succeeded
  void Stopping(std::string reason);  // fatal: the process is stopping
  void Started(int64_t now_ms);       // the loop runs: judged from now

  bool running() const { return started_ms_.load() != 0; }
  int64_t last_progress_ms() const { return last_progress_ms_.load(); }
  double backlog() const { return backlog_.load(); }
  std::string failing() const;
  std::string stopping() const;

 private:
  std::atomic<int64_t> started_ms_{0}, last_progress_ms_{0};
  std::atomic<double> backlog_{0};
  mutable std::mutex mu_;
  std::string failing_, stopping_;
};

class Telemetry {
 public:
  static Telemetry& Get();

  Registry& registry() { return registry_; }
  MechanismState& state(Mechanism m) { return states_[static_cast<int>(m)]; }

  Counter& records(Mechanism m) { return *records_[static_cast<int>(m)]; }
  Counter& chunks(Mechanism m) { return *chunks_[static_cast<int>(m)]; }
  Counter& retries(Mechanism m) { return *retries_[static_cast<int>(m)]; }
  Counter& bad_rows(std::string_view label);
  Counter& detections(int pattern) { return *detections_[pattern]; }
  Counter& detection_files() { return *detection_files_; }
  Gauge& pending_detections() { return *pending_; }
  Gauge& backlog_chunks() { return *backlog_chunks_; }
  Gauge& source_backlog_bytes() { return *source_backlog_bytes_; }
  Gauge& lag_seconds() { return *lag_seconds_; }
  Histogram& chunk_process_seconds() { return *chunk_seconds_; }
  // Unix ms of the last checkpoint this process wrote or loaded (0: none).
  std::atomic<int64_t>& checkpoint_ms() { return checkpoint_ms_; }

  // Wraps `base` so every call is counted in txflow_storage_requests_total
  // {op,status} and txflow_storage_errors_total{op}. With `watch_key`, the
  // size of the last successful Stat of that key is kept (source size).
  std::unique_ptr<FileSystem> Instrument(std::unique_ptr<FileSystem> base,
                                         std::string watch_key = "");
  // The watched key's size from the last Stat (0 before one).
  uint64_t watched_size() const { return watched_size_.load(); }
  void set_watched_size(uint64_t v) { watched_size_.store(v); }
  void CountStorage(int op, const Status& s);

 private:
  Telemetry();
  Registry registry_;
  std::array<MechanismState, 2> states_;
  std::array<Counter*, 2> records_{}, chunks_{}, retries_{};
  std::array<Counter*, kBadRowReasons.size()> bad_rows_{};
  std::array<Counter*, 3> detections_{};
  Counter* detection_files_ = nullptr;
  Gauge *pending_ = nullptr, *backlog_chunks_ = nullptr,
        *source_backlog_bytes_ = nullptr, *lag_seconds_ = nullptr;
  Histogram* chunk_seconds_ = nullptr;
  std::atomic<int64_t> checkpoint_ms_{0};
  // [op][status class] requests, [op] errors.
  std::array<std::array<Counter*, 5>, 6> storage_{};
  std::array<Counter*, 6> storage_errors_{};
  std::atomic<uint64_t> watched_size_{0};
};

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_TELEMETRY_H_
