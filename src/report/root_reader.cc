#include "report/root_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "chunker/chunk_key.h"
#include "common/crc32c.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"
#include "detector/detection_file.h"

namespace txflow::report {
namespace {

constexpr std::string_view kEvidenceHeader =
    "row,chunk,patternId,customerName,MerchantId,merchant_total,customer_"
    "count,count_p90,customer_avg_weight,weight_p10,child_count,child_avg_"
    "amount,female_customers,male_customers,upgrade_min_txns,upgrade_count_"
    "percentile,upgrade_weight_percentile,child_min_txns,child_max_avg,dei_"
    "min_female";
constexpr std::string_view kStatsHeader =
    "chunk,records,bad_rows,detections,process_ms,processed_at_ms,backlog_"
    "chunks";
// Evidence columns the table already shows from the detection file.
constexpr size_t kEvidenceFirstNumber = 5;

void AddProblem(ReportData* data, const ReportLimits& limits,
                std::string line) {
  if (data->problems.size() < limits.max_problems) {
    data->problems.push_back(std::move(line));
  } else {
    ++data->more_problems;
  }
}

std::string_view WithoutLineEnd(std::string_view record) {
  while (!record.empty() && (record.back() == '\n' || record.back() == '\r')) {
    record.remove_suffix(1);
  }
  return record;
}

// The records of a CSV text after its header; the header is checked to be
// `header` exactly. Each callback gets one record's fields; a false return
// stops. Returns a reason when the header or a record is unreadable.
template <typename F>
std::optional<std::string> ForEachRow(std::string_view text,
                                      std::string_view header, size_t width,
                                      F&& on_row) {
  RecordReader reader(text);
  std::string_view record;
  if (!reader.Next(&record) || WithoutLineEnd(record) != header) {
    return "unexpected header line";
  }
  std::vector<std::string_view> fields;
  std::string scratch;
  while (reader.Next(&record)) {
    if (auto err = SplitFields(record, &fields, &scratch)) return *err;
    if (fields.size() != width) {
      return "a row has " + std::to_string(fields.size()) + " fields, not " +
             std::to_string(width);
    }
    if (!on_row(fields)) break;
  }
  return std::nullopt;
}

Result<std::vector<ObjectInfo>> ListKeys(FileSystem* root,
                                         std::string_view prefix) {
  ListOptions options;
  options.prefix = std::string(prefix);
  return root->List(options);
}

// Read, with a listed object that vanished in between treated as a problem:
// nothing txflow writes under these prefixes is deleted, so it means someone
// else removed it.
Result<std::optional<std::string>> ReadListed(FileSystem* root,
                                              std::string_view key) {
  auto text = root->Read(key);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == StatusCode::kNotFound) {
    return std::optional<std::string>();
  }
  return text.status();
}

// --- detection files ------------------------------------------------------

int PatternIndex(std::string_view pattern) {
  for (size_t i = 0; i < kPatterns.size(); ++i) {
    if (pattern == kPatterns[i]) return static_cast<int>(i);
  }
  return -1;
}

void CountMerchant(ReportData* data, const ReportLimits& limits,
                   std::string_view merchant) {
  auto it = data->merchants.find(std::string(merchant));
  if (it != data->merchants.end()) {
    ++it->second;
  } else if (data->merchants.size() < limits.max_merchants) {
    data->merchants.emplace(merchant, 1);
  } else {
    ++data->other_merchants;
  }
}

void AddDetection(ReportData* data, const ReportLimits& limits,
                  const std::string& file, uint64_t row,
                  const std::vector<std::string_view>& f) {
  ++data->detections;
  const int p = PatternIndex(f[2]);
  if (p >= 0) {
    ++data->per_pattern[p];
    if (auto ms = ParseIsoMs(f[1])) data->detections_over_time[p].Add(*ms, 1);
  }
  CountMerchant(data, limits, f[5]);
  if (limits.table_rows == 0) return;
  data->table.push_back({file,
                         row,
                         std::string(f[1]),
                         std::string(f[2]),
                         std::string(f[3]),
                         std::string(f[4]),
                         std::string(f[5]),
                         "",
                         {}});
  if (data->table.size() > limits.table_rows) data->table.pop_front();
}

Status ReadDetectionFiles(FileSystem* root, const ReportLimits& limits,
                          ReportData* data) {
  TXFLOW_ASSIGN_OR_RETURN(auto listed, ListKeys(root, kDetectionsPrefix));
  // Sequence order, which is the order the detections were made in.
  std::vector<std::pair<uint64_t, std::string>> files;
  for (auto& info : listed) {
    if (auto seq = ParseDetectionFileSeq(info.key)) {
      files.emplace_back(*seq, std::move(info.key));
    }
  }
  std::sort(files.begin(), files.end());
  const std::string_view header = WithoutLineEnd(kDetectionsHeader);
  for (const auto& file : files) {
    const std::string& key = file.second;  // a lambda below captures it
    TXFLOW_ASSIGN_OR_RETURN(auto text, ReadListed(root, key));
    if (!text) {
      AddProblem(data, limits, root->Uri(key) + ": listed, then gone");
      continue;
    }
    ++data->detection_files;
    uint64_t row = 0;
    auto err = ForEachRow(*text, header, 6, [&](const auto& f) {
      AddDetection(data, limits, key, ++row, f);
      return true;
    });
    if (err) AddProblem(data, limits, root->Uri(key) + ": " + *err);
  }
  return Status::OK();
}

// --- evidence sidecars ----------------------------------------------------

std::string EvidenceKeyFor(std::string_view detection_key) {
  return "detections/evidence/" +
         std::string(detection_key.substr(detection_key.rfind('/') + 1));
}

// Attaches the sidecar's rows to the table rows [first, last) of one file.
std::optional<std::string> AttachEvidence(std::string_view text,
                                          std::deque<DetectionRow>& table,
                                          size_t first, size_t last) {
  std::vector<std::string> names;
  for (size_t pos = 0; pos <= kEvidenceHeader.size();) {
    const size_t comma =
        std::min(kEvidenceHeader.find(',', pos), kEvidenceHeader.size());
    names.emplace_back(kEvidenceHeader.substr(pos, comma - pos));
    pos = comma + 1;
  }
  std::optional<std::string> mismatch;
  auto err =
      ForEachRow(text, kEvidenceHeader, names.size(), [&](const auto& f) {
        uint64_t row = 0;
        std::from_chars(f[0].data(), f[0].data() + f[0].size(), row);
        for (size_t i = first; i < last; ++i) {
          DetectionRow& d = table[i];
          if (d.row != row) continue;
          if (d.pattern != f[2] || d.customer != f[3] || d.merchant != f[4]) {
            mismatch =
                "row " + std::to_string(row) + " is for another detection";
            return false;
          }
          d.chunk = std::string(f[1]);
          for (size_t c = kEvidenceFirstNumber; c < f.size(); ++c) {
            if (!f[c].empty()) d.evidence.emplace_back(names[c], f[c]);
          }
        }
        return true;
      });
  return err ? err : mismatch;
}

Status ReadEvidence(FileSystem* root, const ReportLimits& limits,
                    ReportData* data) {
  auto& table = data->table;
  for (size_t first = 0; first < table.size();) {
    size_t last = first;
    while (last < table.size() && table[last].file == table[first].file) {
      ++last;
    }
    const std::string key = EvidenceKeyFor(table[first].file);
    auto text = root->Read(key);
    if (text.ok()) {
      ++data->evidence_files;
      auto body = CheckTrailer(*text, kEvidenceTag, root->Uri(key));
      std::optional<std::string> err =
          body.ok() ? AttachEvidence(*body, table, first, last)
                    : std::optional<std::string>(body.status().message());
      if (err) AddProblem(data, limits, root->Uri(key) + ": " + *err);
    } else if (text.status().code() != StatusCode::kNotFound) {
      return text.status();
    }
    first = last;
  }
  return Status::OK();
}

// --- per-chunk stats ------------------------------------------------------

struct StatsRow {
  double records = 0, process_ms = 0, backlog = -1;
  int64_t processed_at_ms = 0;
};

std::optional<StatsRow> ParseStatsRow(const std::vector<std::string_view>& f) {
  auto records = ParseDecimal(f[1], 0);
  auto micro = ParseDecimal(f[4], 3);
  auto at = ParseDecimal(f[5], 0);
  auto backlog = ParseDecimal(f[6], 0);
  if (!records || !micro || !at || !backlog || !ParseChunkKey(f[0])) {
    return std::nullopt;
  }
  return StatsRow{static_cast<double>(*records), *micro / 1000.0,
                  static_cast<double>(*backlog), *at};
}

void AddStats(ReportData* data, const StatsRow& r) {
  ++data->stats_chunks;
  data->records.Add(r.processed_at_ms, r.records);
  data->latency_ms.Add(r.processed_at_ms, r.process_ms);
  if (r.backlog >= 0) data->backlog.Add(r.processed_at_ms, r.backlog);
}

// Rows of chunks below `below` can no longer be replaced by a later stats
// file (those start at or above it), so they leave the window for the series.
void FlushStats(ReportData* data, std::map<std::string, StatsRow>* window,
                const std::string& below) {
  auto end = window->lower_bound(below);
  for (auto it = window->begin(); it != end; ++it) AddStats(data, it->second);
  window->erase(window->begin(), end);
}

Status ReadStats(FileSystem* root, const ReportLimits& limits,
                 ReportData* data) {
  TXFLOW_ASSIGN_OR_RETURN(auto listed, ListKeys(root, kStatsPrefix));
  // A replay rewrites a chunk's row in a file with a higher first record:
  // keys sort by first record, so the last row seen for a chunk wins.
  std::map<std::string, StatsRow> window;
  for (const auto& info : listed) {
    uint64_t first = 0;  // stats_<first record:012>.csv
    const char* digits = info.key.data() + kStatsPrefix.size();
    if (std::from_chars(digits, info.key.data() + info.key.size(), first).ec !=
        std::errc()) {
      continue;  // not a stats file
    }
    FlushStats(data, &window, ChunkKey(first));
    TXFLOW_ASSIGN_OR_RETURN(auto text, ReadListed(root, info.key));
    if (!text) continue;
    auto body = CheckTrailer(*text, kStatsTag, root->Uri(info.key));
    if (!body.ok()) {
      AddProblem(data, limits, body.status().message());
      continue;
    }
    auto err = ForEachRow(*body, kStatsHeader, 7, [&](const auto& f) {
      auto row = ParseStatsRow(f);
      if (row) window[std::string(f[0])] = *row;
      return row.has_value();
    });
    if (err) AddProblem(data, limits, root->Uri(info.key) + ": " + *err);
  }
  FlushStats(data, &window, "\xff");
  return Status::OK();
}

// --- quarantine -----------------------------------------------------------

void CountReason(ReportData* data, const ReportLimits& limits,
                 std::string_view reason) {
  ++data->bad_rows;
  std::string kind = ReasonKind(reason);
  if (data->bad_rows_by_reason.size() >= limits.max_reasons &&
      !data->bad_rows_by_reason.contains(kind)) {
    kind = "(other reasons)";
  }
  ++data->bad_rows_by_reason[kind];
}

Status ReadQuarantine(FileSystem* root, const ReportLimits& limits,
                      ReportData* data) {
  TXFLOW_ASSIGN_OR_RETURN(auto listed, ListKeys(root, kQuarantinePrefix));
  for (const auto& info : listed) {
    TXFLOW_ASSIGN_OR_RETURN(auto text, ReadListed(root, info.key));
    if (!text) continue;
    auto err = ForEachRow(*text, "chunk,record,byte_offset,reason,raw", 5,
                          [&](const auto& f) {
                            CountReason(data, limits, f[3]);
                            return true;
                          });
    if (err) AddProblem(data, limits, root->Uri(info.key) + ": " + *err);
  }
  return Status::OK();
}

Status ReadOffset(FileSystem* root, const ReportLimits& limits,
                  ReportData* data) {
  auto text = root->Read(kOffsetKey);
  if (!text.ok()) {
    return text.status().code() == StatusCode::kNotFound ? Status::OK()
                                                         : text.status();
  }
  auto offset = DecodeOffsetState(*text, root->Uri(kOffsetKey));
  if (offset.ok()) {
    data->offset = std::move(offset).value();
  } else {
    AddProblem(data, limits, offset.status().message());
  }
  return Status::OK();
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian
  // calendar, no time zone database needed.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

Result<std::string_view> CheckTrailer(std::string_view text,
                                      std::string_view tag,
                                      std::string_view uri) {
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  const size_t line =
      body.rfind('\n') == std::string_view::npos ? 0 : body.rfind('\n') + 1;
  const std::string_view last = body.substr(line);
  body = text.substr(0, line);
  const std::string expect = "# " + std::string(tag) + " crc32c=";
  if (last.size() != expect.size() + 8 ||
      last.substr(0, expect.size()) != expect) {
    return Status::Corruption(std::string(uri) + ": no '" + expect +
                              "' line at the end (truncated, or another "
                              "format version)");
  }
  char want[9];
  std::snprintf(want, sizeof(want), "%08x", Crc32c(body));
  if (last.substr(expect.size()) != want) {
    return Status::Corruption(std::string(uri) + ": checksum mismatch");
  }
  return body;
}

std::optional<int64_t> ParseIsoMs(std::string_view t) {
  // 2026-11-25T20:28:57.447+05:30
  if (t.size() != 29 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
      t[13] != ':' || t[16] != ':' || t[19] != '.' || t[26] != ':' ||
      (t[23] != '+' && t[23] != '-')) {
    return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) -> std::optional<int64_t> {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.data() + at, t.data() + at + len, v);
    if (ec != std::errc() || end != t.data() + at + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2),
       mi = num(14, 2), s = num(17, 2), ms = num(20, 3), oh = num(24, 2),
       om = num(27, 2);
  if (!y || !mo || !d || !h || !mi || !s || !ms || !oh || !om || *mo < 1 ||
      *mo > 12 || *d < 1 || *d > 31) {
    return std::nullopt;
  }
  const int64_t offset_min = (t[23] == '-' ? -1 : 1) * (*oh * 60 + *om);
  const int64_t days =
      DaysFromCivil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  const int64_t local_s = ((days * 24 + *h) * 60 + *mi) * 60 + *s;
  return (local_s - offset_min * 60) * 1000 + *ms;
}

std::string ReasonKind(std::string_view reason) {
  std::string out;
  for (size_t i = 0; i < reason.size(); ++i) {
    const size_t close =
        reason[i] == '\'' ? reason.rfind('\'') : std::string_view::npos;
    if (close != std::string_view::npos && close > i) {
      out += "'\xe2\x80\xa6'";  // '…'
      i = close;
      continue;
    }
    out += reason[i];
  }
  return out;
}

Result<ReportData> ReadReportData(FileSystem* root, const ReportLimits& limits,
                                  int64_t now_ms) {
  ReportData data;
  data.root = RootUri(*root);
  data.generated_at_ms = now_ms;
  for (auto& s : data.detections_over_time) {
    s = TimeSeries(1000, limits.chart_buckets);
  }
  data.records = data.latency_ms = data.backlog =
      TimeSeries(1000, limits.chart_buckets);
  TXFLOW_RETURN_IF_ERROR(ReadOffset(root, limits, &data));
  TXFLOW_RETURN_IF_ERROR(ReadDetectionFiles(root, limits, &data));
  TXFLOW_RETURN_IF_ERROR(ReadEvidence(root, limits, &data));
  TXFLOW_RETURN_IF_ERROR(ReadStats(root, limits, &data));
  TXFLOW_RETURN_IF_ERROR(ReadQuarantine(root, limits, &data));
  return data;
}

}  // namespace txflow::report
