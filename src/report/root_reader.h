// Reads a root for the report: detection files, their evidence sidecars,
// the detector's per-chunk stats, quarantine files and state/offset.csv
// (docs/formats.md). Reads only: never writes, locks or deletes, so it may run
// beside `txflow chunk`, `detect` or `run` on the same root; every object it
// reads is written create-only or replaced atomically, so it sees whole
// objects.
//
// Cost: one LIST per prefix (paged), one GET per detection, stats and
// quarantine file, one GET of offset.csv, and one GET per evidence sidecar of
// the last limits.table_rows detections (at most table_rows / 50 + 1). Memory
// is bounded by ReportLimits, not by the root's size: one file is held at a
// time, and series, names and the table are capped.
//
// A file that is damaged (bad checksum, unknown version, wrong header) is
// skipped and named in ReportData::problems; only a failure to list or read
// the root is an error.
#ifndef TXFLOW_REPORT_ROOT_READER_H_
#define TXFLOW_REPORT_ROOT_READER_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "report/report_data.h"
#include "txflow/file_system.h"
#include "txflow/status.h"

namespace txflow::report {

inline constexpr std::string_view kEvidencePrefix =
    "detections/evidence/detections_";
inline constexpr std::string_view kStatsPrefix = "state/detector/stats/stats_";
inline constexpr std::string_view kQuarantinePrefix = "quarantine/chunk-";
inline constexpr std::string_view kEvidenceTag = "txflow-evidence-1";
inline constexpr std::string_view kStatsTag = "txflow-stats-1";

Result<ReportData> ReadReportData(FileSystem* root, const ReportLimits& limits,
                                  int64_t now_ms);

// The body of a file that ends with the line "# <tag> crc32c=<8 hex>" (and
// an optional "\n"), checked against the CRC-32C of the body. Corruption,
// naming `uri`, when the line is missing, names another tag or the checksum
// differs.
Result<std::string_view> CheckTrailer(std::string_view text,
                                      std::string_view tag,
                                      std::string_view uri);

// "2026-11-25T20:28:57.447+05:30" (what detection files hold) as Unix ms;
// nullopt for anything else.
std::optional<int64_t> ParseIsoMs(std::string_view text);

// A bad-row reason with the quoted input in it replaced by '…', so that
// "amount 'x1' is not a decimal number" and "amount 'x2' ..." count as one.
std::string ReasonKind(std::string_view reason);

}  // namespace txflow::report

#endif  // TXFLOW_REPORT_ROOT_READER_H_
