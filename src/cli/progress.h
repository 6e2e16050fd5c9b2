// The progress line of `txflow chunk`, `detect` and `run` (issue 14): one
// line at the bottom of a terminal's stderr with records, chunks, rate and,
// when the source is declared complete (--drain) and its size is known, the
// share done and an ETA. Redrawn at most kProgressRedrawsPerSecond times a
// second; erased before every log line (common/log.h redraws it after) and
// when the loop that drew it ends. Never drawn when stderr is not a terminal,
// nor with --log-format json (every stderr line must parse as JSON).
//
// Thread-safe: in `txflow run` X and Y report from their own threads into one
// shared line. The reporters take plain numbers, never the Chunker or the
// Detector, so the line reads nothing the loops do not hand it.
#ifndef TXFLOW_CLI_PROGRESS_H_
#define TXFLOW_CLI_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "chunker/chunker.h"
#include "detector/detector.h"

namespace txflow {

inline constexpr int kProgressRedrawsPerSecond = 4;

// What the line shows; the counters are totals for the root (from the
// offset and the checkpoint), the rate counts this process's work only.
struct ProgressSnapshot {
  std::optional<OffsetState> x;  // X's position (own, or read from the root)
  bool y = false;                // the detector fields below are set
  uint64_t y_records = 0, y_chunks = 0, y_detections = 0, y_files = 0;
  std::optional<double> records_per_second;  // nullopt: not measured yet
  bool drain = false;  // the end is known: show the share done and an ETA
};

// "x 1,234,567 rec in 124 chunks | y 1,200,000 rec, 120 chunks, 37
// detections, 3 files | 251.3k rec/s | 45% ETA 0:12"; the rate and the ETA
// are left out until a rate is measured. Pure, for tests.
std::string FormatProgress(const ProgressSnapshot& s);

// One per loop, for the loop's lifetime. Does nothing unless stderr is a
// terminal and the log format is human. Erases the line on destruction.
class ProgressReporter {
 public:
  // `mechanism`: 'x' or 'y'.
  ProgressReporter(char mechanism, bool drain);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // After each tick.
  void Update(const Chunker& chunker);
  // After each poll. `root` is read (offset.csv, at most once a second, on
  // a terminal) for X's position only when no chunker reports in this
  // process.
  void Update(const Detector& detector, FileSystem* root);

 private:
  bool enabled_;
  char mechanism_;
  bool drain_;
};

}  // namespace txflow

#endif  // TXFLOW_CLI_PROGRESS_H_
