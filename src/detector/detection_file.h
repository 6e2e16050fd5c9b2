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

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_DETECTION_FILE_H_
