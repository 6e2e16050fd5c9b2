#include "detector/detection_file.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "common/clock.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

namespace txflow {

Result<int> ParseTimezone(std::string_view text) {
  if (text == "Asia/Kolkata" || text == "IST") return 330;
  if (text == "UTC" || text == "Z") return 0;
  if (text.size() == 6 && (text[0] == '+' || text[0] == '-') &&
      text[3] == ':') {
    auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    if (digit(1) && digit(2) && digit(4) && digit(5)) {
      const int h = (text[1] - '0') * 10 + (text[2] - '0');
      const int m = (text[4] - '0') * 10 + (text[5] - '0');
      if (h <= 14 && m < 60) return (text[0] == '-' ? -1 : 1) * (h * 60 + m);
    }
  }
  return Status::InvalidArgument("timezone '" + std::string(text) +
                                 "' (use Asia/Kolkata, UTC or +HH:MM)");
}

std::string FormatTimestamp(int64_t unix_ms, int offset_minutes) {
  return FormatWithOffsetMs(unix_ms, offset_minutes);
}

std::string DetectionFileKey(int64_t epoch_seconds, uint64_t seq) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%" PRId64 "_%06" PRIu64 ".csv",
                epoch_seconds, seq);
  return std::string(kDetectionsPrefix) + buf;
}

std::optional<uint64_t> ParseDetectionFileSeq(std::string_view key) {
  if (key.substr(0, kDetectionsPrefix.size()) != kDetectionsPrefix)
    return std::nullopt;
  key.remove_prefix(kDetectionsPrefix.size());
  if (key.size() < 4 || key.substr(key.size() - 4) != ".csv")
    return std::nullopt;
  key.remove_suffix(4);
  const size_t us = key.find('_');
  if (us == std::string_view::npos || us == 0 || key.size() - us - 1 < 6)
    return std::nullopt;
  for (size_t i = 0; i < key.size(); ++i) {
    if (i != us && !(key[i] >= '0' && key[i] <= '9') &&
        !(i == 0 && key[i] == '-')) {
      return std::nullopt;
    }
  }
  uint64_t seq = 0;
  for (char c : key.substr(us + 1))
    seq = seq * 10 + static_cast<uint64_t>(c - '0');
  return seq;
}

std::string EncodeDetectionFile(const std::vector<Detection>& rows,
                                int64_t ystart_ms, int offset_minutes) {
  std::string out(kDetectionsHeader);
  const std::string ystart = FormatTimestamp(ystart_ms, offset_minutes);
  for (const Detection& d : rows) {
    out += ystart;
    out += ',';
    out += FormatTimestamp(d.detected_at_ms, offset_minutes);
    out += ',';
    out += PatternId(d.pattern);
    out += ',';
    out += ActionType(d.pattern);
    out += ',';
    AppendCsvField(&out, d.customer);
    out += ',';
    AppendCsvField(&out, d.merchant);
    out += '\n';
  }
  return out;
}

size_t CountDetectionRows(std::string_view text) {
  const size_t all = ScanRecords(text, SIZE_MAX).records;
  return all == 0 ? 0 : all - 1;
}

std::string DetectionFileKeyFor(uint64_t seq,
                                const std::vector<Detection>& rows) {
  return DetectionFileKey(rows.back().detected_at_ms / 1000, seq);
}

std::vector<DetectionFileSpan> DetectionFileCursor::Add(uint64_t n) {
  pending_ += n;
  std::vector<DetectionFileSpan> out;
  uint64_t first = 0;
  while (pending_ >= kDetectionsPerFile) {
    out.push_back({++files_, first, kDetectionsPerFile});
    first += kDetectionsPerFile;
    pending_ -= kDetectionsPerFile;
  }
  return out;
}

std::vector<DetectionFileSpan> DetectionFileCursor::Flush() {
  std::vector<DetectionFileSpan> out = Add(0);
  if (pending_ > 0) {
    const uint64_t first =
        out.empty() ? 0 : out.back().first + out.back().count;
    out.push_back({++files_, first, pending_});
    pending_ = 0;
  }
  return out;
}

}  // namespace txflow
