#include "chunker/offset_state.h"

#include <charconv>
#include <cstdio>
#include <vector>

#include "common/clock.h"
#include "common/crc32c.h"
#include "csv/row_decoder.h"

namespace txflow {
namespace {

constexpr std::string_view kHeader =
    "format,source,next_record,byte_offset,chunks_written,source_size_seen,"
    "size_seen_at_ms,header_bytes,header_crc32c,updated_at,updated_at_ms,"
    "crc32c";
constexpr size_t kFields = 12;

// Splits one CSV row (RFC 4180 quotes). False on a malformed quote.
bool SplitRow(std::string_view row, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    if (i < row.size() && row[i] == '"') {
      ++i;
      while (true) {
        if (i >= row.size()) return false;
        if (row[i] == '"') {
          if (i + 1 < row.size() && row[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += row[i++];
      }
      if (i < row.size() && row[i] != ',') return false;
    } else {
      while (i < row.size() && row[i] != ',') field += row[i++];
    }
    out->push_back(field);
    if (i >= row.size()) return true;
    ++i;  // the comma
  }
}

template <typename T>
bool ParseInt(const std::string& s, T* out, int base = 10) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

}  // namespace

std::string EncodeOffsetState(const OffsetState& s) {
  std::string row = std::string(kOffsetFormat) + ",";
  AppendCsvField(&row, s.source);
  row +=
      "," + std::to_string(s.next_record) + "," +
      std::to_string(s.byte_offset) + "," + std::to_string(s.chunks_written) +
      "," + std::to_string(s.source_size_seen) + "," +
      std::to_string(s.size_seen_at_ms) + "," + std::to_string(s.header_bytes) +
      "," + Hex32(s.header_crc32c) + "," + FormatUtcMs(s.updated_at_ms) + "," +
      std::to_string(s.updated_at_ms) + ",";
  row += Hex32(Crc32c(row));
  return std::string(kHeader) + "\n" + row + "\n";
}

Result<OffsetState> DecodeOffsetState(std::string_view text,
                                      const std::string& uri) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(uri + ": corrupt offset file: " + why +
                              " (restore it or remove the root to start over)");
  };
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos || text.substr(0, nl) != kHeader) {
    return corrupt("unexpected header line");
  }
  std::string_view row = text.substr(nl + 1);
  if (row.empty() || row.back() != '\n') return corrupt("truncated");
  row.remove_suffix(1);
  if (row.find('\n') != std::string_view::npos)
    return corrupt("more than one row");
  if (row.substr(0, row.find(',')) != kOffsetFormat) {
    if (row.rfind("txflow-offset-", 0) == 0) {
      return Status::Corruption(uri + ": offset file format '" +
                                std::string(row.substr(0, row.find(','))) +
                                "' is not supported by this txflow (expects " +
                                std::string(kOffsetFormat) + ")");
    }
    return corrupt("unknown format tag");
  }
  const size_t last_comma = row.rfind(',');
  uint32_t crc = 0;
  const std::string crc_text(row.substr(last_comma + 1));
  // Exactly 8 lower-case hex digits: from_chars would also take 'A' for 'a',
  // letting a flipped case bit through.
  if (crc_text.size() != 8 ||
      crc_text.find_first_not_of("0123456789abcdef") != std::string::npos ||
      !ParseInt(crc_text, &crc, 16)) {
    return corrupt("bad checksum field");
  }
  if (Crc32c(row.substr(0, last_comma + 1)) != crc)
    return corrupt("checksum mismatch");
  std::vector<std::string> f;
  if (!SplitRow(row, &f) || f.size() != kFields)
    return corrupt("wrong number of fields");
  OffsetState s;
  s.source = f[1];
  if (!ParseInt(f[2], &s.next_record) || !ParseInt(f[3], &s.byte_offset) ||
      !ParseInt(f[4], &s.chunks_written) ||
      !ParseInt(f[5], &s.source_size_seen) ||
      !ParseInt(f[6], &s.size_seen_at_ms) || !ParseInt(f[7], &s.header_bytes) ||
      !ParseInt(f[8], &s.header_crc32c, 16) ||
      !ParseInt(f[10], &s.updated_at_ms)) {
    return corrupt("bad number");
  }
  if (s.byte_offset < s.header_bytes && s.next_record > 0) {
    return corrupt("offset inside the header");
  }
  return s;
}

}  // namespace txflow
