#include "detector/sidecar_files.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "common/crc32c.h"
#include "common/int128.h"
#include "csv/row_decoder.h"
#include "detector/detection_file.h"

namespace txflow {
namespace {

// num / den rounded half away from zero, exactly. REQUIRES: den > 0.
Int128 RoundDiv(Int128 num, Int128 den) {
  const Int128 mag = ((num < 0 ? -num : num) * 2 + den) / (den * 2);
  return num < 0 ? -mag : mag;
}

// A fixed-point number: v / 10^decimals, with exactly `decimals` digits.
void AppendFixed(Int128 v, int decimals, std::string* out) {
  if (v < 0) {
    out->push_back('-');
    v = -v;
  }
  Int128 scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%" PRIu64, static_cast<uint64_t>(v / scale));
  out->append(buf);
  if (decimals == 0) return;
  std::snprintf(buf, sizeof(buf), ".%0*" PRIu64, decimals,
                static_cast<uint64_t>(v % scale));
  out->append(buf);
}

void AppendUint(uint64_t v, std::string* out) {
  out->append(std::to_string(v));
}

// The evidence cells from merchant_total to male_customers.
void AppendEvidenceNumbers(Pattern pattern, const Evidence& e,
                           std::string* out) {
  if (!e.known) {
    out->append(8, ',');  // 9 empty cells
    return;
  }
  const bool upgrade = pattern == Pattern::kUpgrade;
  const bool child = pattern == Pattern::kChild;
  AppendUint(e.merchant_total, out);
  out->push_back(',');
  if (upgrade) {
    AppendUint(e.count, out);
    out->push_back(',');
    AppendFixed(e.count_bound_x100, 2, out);
    out->push_back(',');
    // Averages in weight units with 6 decimals: the sum is in 10^-6 units.
    AppendFixed(RoundDiv(e.weight_micro, e.count), 6, out);
    out->push_back(',');
    // The bound as compared (a double of 10^-6 units), rounded to 10^-6.
    AppendFixed(static_cast<Int128>(std::llround(e.weight_bound_micro)), 6,
                out);
    out->push_back(',');
  } else {
    out->append(",,,,");
  }
  if (child) {
    AppendUint(e.count, out);
    out->push_back(',');
    // Rupees with 6 decimals: paise * 10^4 / count in 10^-6 rupees.
    AppendFixed(RoundDiv(static_cast<Int128>(e.amount_paise) * 10'000,
                         static_cast<Int128>(e.count)),
                6, out);
    out->push_back(',');
  } else {
    out->append(",,");
  }
  if (pattern == Pattern::kDei) {
    AppendUint(e.female, out);
    out->push_back(',');
    AppendUint(e.male, out);
  } else {
    out->push_back(',');
  }
}

void AppendThresholds(const Thresholds& t, std::string* out) {
  for (uint64_t v : {t.upgrade_min_txns, uint64_t{t.upgrade_count_pct},
                     uint64_t{t.upgrade_weight_pct}, t.child_min_txns}) {
    AppendUint(v, out);
    out->push_back(',');
  }
  AppendFixed(t.child_max_avg_paise, 2, out);
  out->push_back(',');
  AppendUint(t.dei_min_female, out);
}

std::string TrailerLine(std::string_view tag, uint32_t crc) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", crc);
  return "# " + std::string(tag) + " crc32c=" + hex + "\n";
}

}  // namespace

void AppendChecksumTrailer(std::string_view tag, std::string* out) {
  out->append(TrailerLine(tag, Crc32c(*out)));
}

Result<std::string_view> CheckChecksumTrailer(std::string_view text,
                                              std::string_view tag,
                                              const std::string& uri) {
  // The trailer is the last line, from after the '\n' that ends the line
  // before it (or from the start) to the final '\n'.
  const size_t nl =
      text.size() >= 2 ? text.rfind('\n', text.size() - 2) : std::string::npos;
  const size_t start = nl == std::string::npos ? 0 : nl + 1;
  const std::string_view body = text.substr(0, start);
  const std::string_view trailer = text.substr(start);
  if (trailer != TrailerLine(tag, Crc32c(body))) {
    return Status::Corruption(uri + ": no valid '# " + std::string(tag) +
                              " crc32c=' trailer (truncated or damaged)");
  }
  return body;
}

std::string EvidenceKeyFor(std::string_view detection_file_key) {
  const std::string_view name =
      detection_file_key.substr(std::string_view("detections/").size());
  return std::string(kEvidencePrefix) + std::string(name);
}

std::string DetectionKeyForEvidence(std::string_view evidence_key) {
  if (evidence_key.substr(0, kEvidencePrefix.size()) != kEvidencePrefix)
    return "";
  std::string key =
      "detections/" + std::string(evidence_key.substr(kEvidencePrefix.size()));
  return ParseDetectionFileSeq(key) ? key : "";
}

std::string EncodeEvidenceFile(const std::vector<Detection>& rows,
                               const Thresholds& t) {
  std::string out(kEvidenceHeader);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Detection& d = rows[i];
    AppendUint(i + 1, &out);
    out.push_back(',');
    AppendCsvField(&out, d.evidence.chunk);
    out.push_back(',');
    out.append(PatternId(d.pattern));
    out.push_back(',');
    AppendCsvField(&out, d.customer);
    out.push_back(',');
    AppendCsvField(&out, d.merchant);
    out.push_back(',');
    AppendEvidenceNumbers(d.pattern, d.evidence, &out);
    out.push_back(',');
    AppendThresholds(t, &out);
    out.push_back('\n');
  }
  AppendChecksumTrailer(kEvidenceTag, &out);
  return out;
}

std::string ChunkStatsKey(uint64_t first_record) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%012" PRIu64 ".csv", first_record);
  return std::string(kChunkStatsPrefix) + buf;
}

std::string EncodeChunkStats(const std::vector<ChunkStatsRow>& rows) {
  std::string out(kChunkStatsHeader);
  for (const ChunkStatsRow& r : rows) {
    AppendCsvField(&out, r.chunk);
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ".%03" PRId64
                  ",%" PRId64 ",%" PRId64 "\n",
                  r.records, r.bad_rows, r.detections, r.process_micros / 1000,
                  r.process_micros % 1000, r.processed_at_ms, r.backlog_chunks);
    out.append(buf);
  }
  AppendChecksumTrailer(kChunkStatsTag, &out);
  return out;
}

}  // namespace txflow
