// What the report shows, read from a root by ReadReportData and turned into
// HTML by RenderReport. Everything here is bounded (see ReportLimits), so a
// root that ran for months makes a report of the same size.
#ifndef TXFLOW_REPORT_REPORT_DATA_H_
#define TXFLOW_REPORT_REPORT_DATA_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chunker/offset_state.h"
#include "report/time_series.h"

namespace txflow::report {

inline constexpr std::array<const char*, 3> kPatterns = {"PatId1", "PatId2",
                                                         "PatId3"};

struct ReportLimits {
  size_t table_rows = 1000;       // the last N detections, with evidence
  size_t max_merchants = 100000;  // distinct merchants counted by name
  size_t max_reasons = 50;        // distinct bad-row reasons
  size_t chart_buckets = 600;     // points per chart series
  size_t max_problems = 20;       // damaged files listed by name
};

// One row of the detections table.
struct DetectionRow {
  std::string file;  // detections/detections_<epoch>_<seq>.csv
  uint64_t row = 0;  // 1-based, in its file
  std::string detection_time, pattern, action, customer, merchant;
  // From the evidence sidecar: the chunk that produced the detection and
  // the non-empty numbers, by column name in the sidecar's order. Empty when
  // the file has no sidecar (yet).
  std::string chunk;
  std::vector<std::pair<std::string, std::string>> evidence;
};

struct ReportData {
  std::string root;  // the root's URI, no secret in it
  int64_t generated_at_ms = 0;

  // Detection files (all of them, in aggregates).
  uint64_t detection_files = 0;
  uint64_t detections = 0;
  std::array<uint64_t, 3> per_pattern{};
  std::array<TimeSeries, 3> detections_over_time;  // value 1 per detection
  std::map<std::string, uint64_t> merchants;       // detections per merchant
  uint64_t other_merchants = 0;  // detections beyond max_merchants names
  std::deque<DetectionRow> table;
  uint64_t evidence_files = 0;  // sidecars read for the table's rows

  // Per-chunk stats (state/detector/stats), deduplicated by chunk.
  uint64_t stats_chunks = 0;
  TimeSeries records;     // records per chunk, at processed_at_ms
  TimeSeries latency_ms;  // process_ms per chunk
  TimeSeries backlog;     // backlog_chunks, where known

  // Quarantine files.
  uint64_t bad_rows = 0;
  std::map<std::string, uint64_t> bad_rows_by_reason;

  std::optional<OffsetState> offset;  // state/offset.csv, when readable

  // Files that could not be used (damaged, unknown version), one line each.
  std::vector<std::string> problems;
  uint64_t more_problems = 0;
};

}  // namespace txflow::report

#endif  // TXFLOW_REPORT_REPORT_DATA_H_
