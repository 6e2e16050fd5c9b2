// Detection files (SPEC §4.4): detections/detections_<epoch>_<seq:06>.csv,
// header YStartTime,detectionTime,patternId,ActionType,customerName,MerchantId.
#ifndef TXFLOW_DETECTOR_DETECTION_FILE_H_
#define TXFLOW_DETECTOR_DETECTION_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detector/detection.h"
#include "txflow/status.h"

namespace txflow {

inline constexpr std::string_view kDetectionsPrefix = "detections/detections_";
inline constexpr std::string_view kDetectionsHeader =
    "YStartTime,detectionTime,patternId,ActionType,customerName,MerchantId\n";
inline constexpr size_t kDetectionsPerFile = 50;

// "Asia/Kolkata" or "IST" (+05:30), "UTC" (+00:00), or "+HH:MM" / "-HH:MM".
// Returns the offset east of UTC in minutes.
Result<int> ParseTimezone(std::string_view text);

// "2026-11-25T19:13:42.123+05:30": ISO 8601, milliseconds, explicit offset.
std::string FormatTimestamp(int64_t unix_ms, int offset_minutes);

std::string DetectionFileKey(int64_t epoch_seconds, uint64_t seq);
// The <seq> of a detection file key; nullopt for any other key.
std::optional<uint64_t> ParseDetectionFileSeq(std::string_view key);

// The whole file: header, then one row per detection in order.
std::string EncodeDetectionFile(const std::vector<Detection>& rows,
                                int64_t ystart_ms, int offset_minutes);

// Data rows in a detection file (records after the header).
size_t CountDetectionRows(std::string_view text);

// A detection file's key: its <seq>, and as <epoch> the second (Unix, rounded
// toward zero) of its last detection's time. REQUIRES: !rows.empty().
std::string DetectionFileKeyFor(uint64_t seq,
                                const std::vector<Detection>& rows);

// One detection file of a DetectionFileCursor: its <seq>, and which
// detections it holds, as a range of the pending list.
struct DetectionFileSpan {
  uint64_t seq = 0;
  uint64_t first = 0;  // index of its first detection in the pending list
  uint64_t count = 0;  // kDetectionsPerFile, or fewer at a flush
  bool operator==(const DetectionFileSpan&) const = default;
};

// The split of the detection sequence into files (SPEC §4.4), the one place
// it is decided, for both engines (Detector; the Spark sink through the
// binding). Files hold kDetectionsPerFile detections each, in sequence order,
// and are numbered 1, 2, ... without a gap. Detections not yet in a file are
// pending; a flush (a drain's end) puts them in a last, shorter file, which
// closes it: the next detection starts the next file.
//
// It counts and holds no detection: the caller keeps the pending list and
// writes the files it is handed. A value: copy it to ask without committing.
class DetectionFileCursor {
 public:
  // `files` detection files exist (the next is files + 1) and `pending`
  // detections follow them in no file. Any number may be pending (a restart
  // can find more than a file's worth): the next Add hands the complete
  // files out.
  explicit DetectionFileCursor(uint64_t files = 0, uint64_t pending = 0)
      : files_(files), pending_(pending) {}

  // Appends n detections to the pending list, then hands out every complete
  // file at its front, in order, as ranges of the list as it stood with the
  // n appended (the first starts at index 0, each the next one's end). Those
  // detections leave the list; fewer than kDetectionsPerFile stay.
  std::vector<DetectionFileSpan> Add(uint64_t n);

  // A drain's end: Add(0), then the pending rest (if any) as a last, shorter
  // file. Nothing stays pending.
  std::vector<DetectionFileSpan> Flush();

  // The <seq> of the file that pending detection i (0: the list's front)
  // goes into, if no flush comes before it.
  uint64_t FileSeqOf(uint64_t i) const {
    return files_ + 1 + i / kDetectionsPerFile;
  }

  uint64_t files() const { return files_; }  // handed out, or existing
  uint64_t pending() const { return pending_; }

 private:
  uint64_t files_;
  uint64_t pending_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_DETECTION_FILE_H_
