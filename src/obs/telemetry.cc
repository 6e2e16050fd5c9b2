#include "obs/telemetry.h"

#include "common/clock.h"
#include "io/file_system_wrapper.h"

#ifndef TXFLOW_VERSION
#define TXFLOW_VERSION "unknown"
#endif

namespace txflow::obs {
namespace {

constexpr std::array<const char*, 6> kOps = {"read",  "read_range", "stat",
                                             "write", "list",       "delete"};
// Status classes of a storage call: not_found and conflict (a create-only or
// replace-if-match write that lost) are answers the callers expect, not
// errors; retryable and fatal are errors.
constexpr std::array<const char*, 5> kStatusClasses = {
    "ok", "not_found", "conflict", "retryable", "error"};

int StatusClass(const Status& s) {
  if (s.ok()) return 0;
  if (s.IsNotFound()) return 1;
  if (s.code() == StatusCode::kAlreadyExists ||
      s.code() == StatusCode::kPreconditionFailed) {
    return 2;
  }
  return s.IsRetryable() ? 3 : 4;
}

double SecondsSince(int64_t ms) {
  return ms == 0 ? 0.0 : (SystemClock::Get()->NowMs() - ms) / 1000.0;
}

// Counts every call by operation and outcome; a FileSystemWrapper, so both
// backends (and the fault injector beneath) are covered alike.
class InstrumentedFileSystem final : public FileSystemWrapper {
 public:
  InstrumentedFileSystem(std::unique_ptr<FileSystem> base, Telemetry* t,
                         std::string watch_key)
      : FileSystemWrapper(std::move(base)),
        t_(t),
        watch_key_(std::move(watch_key)) {}

  Result<std::string> Read(std::string_view key) override {
    return Count(0, FileSystemWrapper::Read(key));
  }
  // Through the base's own ReadInto and ReadMapped (a local file's buffer
  // reuse and mapping), each counted once as a read.
  Status ReadInto(std::string_view key, std::string* out) override {
    Status s = base()->ReadInto(key, out);
    t_->CountStorage(0, s);
    return s;
  }
  Result<ObjectBytes> ReadMapped(std::string_view key) override {
    return Count(0, base()->ReadMapped(key));
  }
  Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                uint64_t length) override {
    return Count(1, FileSystemWrapper::ReadRange(key, offset, length));
  }
  Result<ObjectInfo> Stat(std::string_view key) override {
    auto r = Count(2, FileSystemWrapper::Stat(key));
    if (r.ok() && !watch_key_.empty() && key == watch_key_) {
      t_->set_watched_size(r->size);
    }
    return r;
  }
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override {
    return Count(3, FileSystemWrapper::Write(key, data, options));
  }
  Result<std::vector<ObjectInfo>> List(const ListOptions& options) override {
    return Count(4, FileSystemWrapper::List(options));
  }
  Status Delete(std::string_view key) override {
    Status s = FileSystemWrapper::Delete(key);
    t_->CountStorage(5, s);
    return s;
  }

 private:
  template <typename R>
  R Count(int op, R r) {
    t_->CountStorage(op, r.status());
    return r;
  }
  Telemetry* t_;
  std::string watch_key_;
};

}  // namespace

std::string_view BadRowReasonLabel(std::string_view reason) {
  auto has = [&](std::string_view s) {
    return reason.find(s) != std::string_view::npos;
  };
  if (reason.rfind("has ", 0) == 0 && has(" fields, header has ")) {
    return "field_count";
  }
  for (const char* field :
       {"customer", "merchant", "gender", "amount", "category"}) {
    if (reason == std::string("empty ") + field) {
      return reason == "empty customer"   ? "empty_customer"
             : reason == "empty merchant" ? "empty_merchant"
             : reason == "empty gender"   ? "empty_gender"
             : reason == "empty amount"   ? "empty_amount"
                                          : "empty_category";
    }
  }
  if (reason.rfind("amount '", 0) == 0) {
    return has("is not a decimal number") ? "bad_amount" : "amount_range";
  }
  return "malformed_csv";
}

void MechanismState::Progress(int64_t now_ms) { last_progress_ms_ = now_ms; }

void MechanismState::Started(int64_t now_ms) {
  started_ms_ = now_ms;
  if (last_progress_ms_ == 0) last_progress_ms_ = now_ms;
}

void MechanismState::Failing(std::string reason) {
  std::lock_guard lock(mu_);
  failing_ = std::move(reason);
}

void MechanismState::Healthy() {
  std::lock_guard lock(mu_);
  failing_.clear();
}

void MechanismState::Stopping(std::string reason) {
  std::lock_guard lock(mu_);
  stopping_ = std::move(reason);
}

std::string MechanismState::failing() const {
  std::lock_guard lock(mu_);
  return failing_;
}

std::string MechanismState::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

Telemetry& Telemetry::Get() {
  static Telemetry* t = new Telemetry();  // never destroyed: threads scrape
  return *t;
}

Counter& Telemetry::bad_rows(std::string_view label) {
  for (size_t i = 0; i < kBadRowReasons.size(); ++i) {
    if (label == kBadRowReasons[i]) return *bad_rows_[i];
  }
  return *bad_rows_.back();
}

void Telemetry::CountStorage(int op, const Status& s) {
  const int c = StatusClass(s);
  storage_[op][c]->Add();
  if (c >= 3) storage_errors_[op]->Add();
}

std::unique_ptr<FileSystem> Telemetry::Instrument(
    std::unique_ptr<FileSystem> base, std::string watch_key) {
  return std::make_unique<InstrumentedFileSystem>(std::move(base), this,
                                                  std::move(watch_key));
}

Telemetry::Telemetry() {
  Registry& r = registry_;
  for (int m = 0; m < 2; ++m) {
    const Labels l = {{"mechanism", kMechanismNames[m]}};
    records_[m] = &r.AddCounter(
        "txflow_records_total",
        "Source records chunked (x) or processed (y) by this process.", l);
    chunks_[m] =
        &r.AddCounter("txflow_chunks_total",
                      "Chunks cut (x) or processed (y) by this process.", l);
    retries_[m] =
        &r.AddCounter("txflow_retries_total",
                      "Steps retried after a transient storage error.", l);
    r.AddGaugeFunc(
        "txflow_last_progress_timestamp_seconds",
        "Unix time of the mechanism's last progress (0: not running here).",
        [this, m] { return states_[m].last_progress_ms() / 1000.0; }, l);
  }
  for (size_t i = 0; i < kBadRowReasons.size(); ++i) {
    bad_rows_[i] = &r.AddCounter(
        "txflow_bad_rows_total",
        "Rows quarantined by the detector in this process, by reason.",
        {{"reason", kBadRowReasons[i]}});
  }
  for (int p = 0; p < 3; ++p) {
    detections_[p] =
        &r.AddCounter("txflow_detections_total",
                      "Detections generated by this process, by pattern.",
                      {{"pattern", "PatId" + std::to_string(p + 1)}});
  }
  detection_files_ = &r.AddCounter("txflow_detection_files_total",
                                   "Detection files written by this process.");
  pending_ = &r.AddGauge("txflow_pending_detections",
                         "Detections waiting for a file (fewer than 50).");
  backlog_chunks_ = &r.AddGauge("txflow_backlog_chunks",
                                "Chunks cut by x and not yet processed by y.");
  source_backlog_bytes_ = &r.AddGauge("txflow_source_backlog_bytes",
                                      "Source bytes not yet chunked by x.");
  lag_seconds_ = &r.AddGauge(
      "txflow_lag_seconds",
      "Age of the oldest chunk y has not processed (0 when caught up).");
  chunk_seconds_ = &r.AddHistogram(
      "txflow_chunk_process_seconds", "Time y took to process one chunk.",
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (size_t op = 0; op < kOps.size(); ++op) {
    for (size_t c = 0; c < kStatusClasses.size(); ++c) {
      storage_[op][c] = &r.AddCounter(
          "txflow_storage_requests_total",
          "Storage calls (FileSystem level; an S3 call may be several HTTP "
          "requests) by operation and outcome.",
          {{"op", kOps[op]}, {"status", kStatusClasses[c]}});
    }
  }
  for (size_t op = 0; op < kOps.size(); ++op) {
    storage_errors_[op] = &r.AddCounter(
        "txflow_storage_errors_total",
        "Storage calls that failed (retryable or fatal), by operation.",
        {{"op", kOps[op]}});
  }
  r.AddGaugeFunc(
      "txflow_checkpoint_age_seconds",
      "Seconds since y last wrote or loaded a checkpoint (0: none yet).",
      [this] { return SecondsSince(checkpoint_ms_.load()); });
  r.AddGaugeFunc("txflow_build_info", "Always 1; the version is the label.",
                 [] { return 1.0; }, {{"version", TXFLOW_VERSION}});
}

}  // namespace txflow::obs
