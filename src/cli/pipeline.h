// What `txflow chunk`, `txflow detect` and `txflow run` share: their flags and
// the loops that drive a Chunker or a Detector under a lease lock, with
// retries on transient storage errors and SIGINT/SIGTERM as a clean stop.
#ifndef TXFLOW_CLI_PIPELINE_H_
#define TXFLOW_CLI_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "chunker/chunker.h"
#include "cli/flags.h"
#include "detector/detector.h"
#include "io/lease_lock.h"
#include "obs/monitor.h"

namespace txflow {

// Chunks one tick may cut in drain mode, at least: ticks stay short so the
// lock lease is renewed between them even while a large backlog is cut.
inline constexpr uint64_t kDrainChunksPerTick = 64;

struct ChunkerFlags {
  ChunkerOptions options;
  std::chrono::milliseconds every{5000};
  bool once = false;
};
void AddChunkerFlags(FlagSet& flags, ChunkerFlags* f, bool with_drain);

struct DetectorFlags {
  DetectorOptions options;
  std::string importance;
  std::string timezone = "Asia/Kolkata";
  std::string child_max_avg = "23";
  uint64_t upgrade_count_pct = 90, upgrade_weight_pct = 10;
  uint64_t threads = 0;  // 0: the cores this process may use
  std::chrono::milliseconds poll{1000};
  bool flush_on_exit = false;
};
void AddDetectorFlags(FlagSet& flags, DetectorFlags* f);
// Validates and converts the textual flags into f->options.
Status FinishDetectorFlags(DetectorFlags* f);
// Starts reading --importance, if given (retrying transient read errors;
// NotFound naming it), and parsing it on a thread of its own (null when not
// given). A URI that names no storage is the error here.
Result<std::unique_ptr<PendingImportance>> StartImportance(
    const std::string& uri);
// Waits for the table (and returns its parse error) unless the root holds a
// detector checkpoint to restore beside the parse: a table that does not
// parse then leaves a fresh root untouched, as any bad input does.
Status AwaitImportanceUnlessRestoring(FileSystem* root,
                                      PendingImportance* importance);
// The read or parse error of `importance` (waiting for the parse), or OK
// (also when null). For a start's failure paths.
Status ImportanceError(PendingImportance* importance);
// detector->Open() (retrying transient errors), which restores the state
// while the table is read and parsed, then waits for the table: its read or
// parse error, if any, is returned in preference to Open()'s (a table that
// does not parse also fails the fingerprint check).
Status OpenDetector(Detector* detector, PendingImportance* importance);

// Monitoring and alerts (docs/operations.md): --metrics-addr HOST:PORT serves
// /metrics and /healthz; --stall-after, --notify-webhook URL (repeatable),
// --notify-command CMD (repeatable), --notify-timeout.
struct ObsFlags {
  std::string metrics_addr;
  std::chrono::milliseconds stall_after{std::chrono::minutes(5)};
  std::vector<std::string> webhooks, commands;
  std::chrono::milliseconds notify_timeout{10'000};
};
void AddObsFlags(FlagSet& flags, ObsFlags* f);
// The process's monitor for `root_uri`, started: the server is up (its port
// logged) when --metrics-addr is given. `x`, for the commands that run the
// chunker, raises x's stall threshold to its linger plus its tick interval.
// InvalidArgument / IOError when the address is bad or cannot be bound.
Result<std::unique_ptr<obs::Monitor>> StartMonitor(const ObsFlags& f,
                                                   const std::string& root_uri,
                                                   const ChunkerFlags* x);
// Storage wrapped for the metrics (txflow_storage_*); `watch_key` is the
// source object, whose size the chunker's Stat reveals.
std::unique_ptr<FileSystem> Instrumented(std::unique_ptr<FileSystem> fs,
                                         std::string watch_key = "");

std::chrono::milliseconds Backoff(int attempt);
inline constexpr int kMaxRetries = 8;

// Runs `step` again while it fails with a retryable error (timeout, 503, ...),
// with backoff, at most kMaxRetries times; SPEC §5 wants transient storage
// errors retried before they count as failures. For the steps outside the
// loops: taking the lock, loading the importance table and the checkpoint,
// the last flush and checkpoint. `who` ("x", "y") prefixes the log line.
Status RetryTransient(const char* who, const std::function<Status()>& step);

// Drives `chunker` until drained (drain), after one tick (once), or until a
// stop is requested. `done` is set when it returns.
Status RunChunkerLoop(Chunker& chunker, LeaseLock& lock, const ChunkerFlags& f,
                      std::atomic<bool>* done);

// Drives `detector` until stopped, or with `drain` until a poll finds nothing
// new after `upstream_done()` became true. Flushes pending detections on
// drain (and on stop with flush_on_exit), then checkpoints.
Status RunDetectorLoop(Detector& detector, LeaseLock& lock, FileSystem* root,
                       const DetectorFlags& f, bool drain,
                       const std::function<bool()>& upstream_done);

// One line: records, bad rows, chunks, detections per pattern, files, time.
// `records_before` is what the detector had done before this process (from
// its checkpoint), so the rate covers this process's work only.
std::string DetectorSummary(const Detector& d, uint64_t records_before,
                            double seconds);

}  // namespace txflow

#endif  // TXFLOW_CLI_PIPELINE_H_
