#include "detector/detection_file.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "csv/record_scanner.h"

namespace txflow {
namespace {

void AppendField(std::string* out, std::string_view v) {
  if (!v.empty() && v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');  // an empty name is written "" so it reads as a value
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

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
  int64_t local_ms = unix_ms + int64_t{offset_minutes} * 60'000;
  int64_t secs = local_ms / 1000, ms = local_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char buf[96];
  std::snprintf(buf, sizeof(buf),
                "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms),
                offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  return buf;
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
    AppendField(&out, d.customer);
    out += ',';
    AppendField(&out, d.merchant);
    out += '\n';
  }
  return out;
}

size_t CountDetectionRows(std::string_view text) {
  const size_t all = ScanRecords(text, SIZE_MAX).records;
  return all == 0 ? 0 : all - 1;
}

}  // namespace txflow
