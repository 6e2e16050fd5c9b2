// Mechanism Y's sidecar files (docs/formats.md): the evidence file beside
// each detection file, and the per-chunk stats written with each snapshot.
// Both are CSV with a last line "# <tag> crc32c=<8 hex>" holding the
// CRC-32C of every byte before it, so a reader can tell a damaged or
// truncated file from a complete one. Text only, no I/O.
#ifndef TXFLOW_DETECTOR_SIDECAR_FILES_H_
#define TXFLOW_DETECTOR_SIDECAR_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detector/detection.h"
#include "txflow/status.h"

namespace txflow {

inline constexpr std::string_view kEvidencePrefix = "detections/evidence/";
inline constexpr std::string_view kEvidenceTag = "txflow-evidence-1";
inline constexpr std::string_view kEvidenceHeader =
    "row,chunk,patternId,customerName,MerchantId,merchant_total,"
    "customer_count,count_p90,customer_avg_weight,weight_p10,child_count,"
    "child_avg_amount,female_customers,male_customers,upgrade_min_txns,"
    "upgrade_count_percentile,upgrade_weight_percentile,child_min_txns,"
    "child_max_avg,dei_min_female\n";

inline constexpr std::string_view kChunkStatsPrefix =
    "state/detector/stats/stats_";
inline constexpr std::string_view kChunkStatsTag = "txflow-stats-1";
inline constexpr std::string_view kChunkStatsHeader =
    "chunk,records,bad_rows,detections,process_ms,processed_at_ms,"
    "backlog_chunks\n";

// Appends "# <tag> crc32c=<hex>\n" for everything already in *out.
void AppendChecksumTrailer(std::string_view tag, std::string* out);
// The text before a valid trailer with `tag`; Corruption naming `uri` for a
// missing or other trailer or a checksum mismatch.
Result<std::string_view> CheckChecksumTrailer(std::string_view text,
                                              std::string_view tag,
                                              const std::string& uri);

// "detections/evidence/detections_<epoch>_<seq>.csv" for the detection file
// key "detections/detections_<epoch>_<seq>.csv": the same file name.
std::string EvidenceKeyFor(std::string_view detection_file_key);
// The detection file an evidence key belongs to; "" for any other key.
std::string DetectionKeyForEvidence(std::string_view evidence_key);

// The evidence file for a detection file holding `rows` in this order,
// thresholds `t` in force. One row per detection, cells empty where they do
// not apply to its pattern (or all numbers empty when !evidence.known).
std::string EncodeEvidenceFile(const std::vector<Detection>& rows,
                               const Thresholds& t);

// One processed chunk, as the stats file records it.
struct ChunkStatsRow {
  std::string chunk;  // landing_zone key
  uint64_t records = 0, bad_rows = 0, detections = 0;
  int64_t process_micros = 0;
  int64_t processed_at_ms = 0;  // Unix ms, wall clock
  int64_t backlog_chunks = -1;  // -1: unknown
};

// "state/detector/stats/stats_<first record:012>.csv"
std::string ChunkStatsKey(uint64_t first_record);
std::string EncodeChunkStats(const std::vector<ChunkStatsRow>& rows);

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_SIDECAR_FILES_H_
