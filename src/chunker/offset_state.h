// Mechanism X's progress: the row of state/offset.csv (docs/formats.md).
//
// A header line and one data row. The row starts with a format tag carrying the
// version and ends with the CRC-32C of everything before it on the row, so a
// truncated or bit-flipped file is Corruption, never a silent jump in the
// source.
#ifndef TXFLOW_CHUNKER_OFFSET_STATE_H_
#define TXFLOW_CHUNKER_OFFSET_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "txflow/status.h"

namespace txflow {

inline constexpr std::string_view kOffsetKey = "state/offset.csv";
inline constexpr std::string_view kOffsetFormat = "txflow-offset-1";

struct OffsetState {
  std::string source;        // the source URI as given
  uint64_t next_record = 0;  // number of the first record not yet chunked
  uint64_t byte_offset = 0;  // byte offset of that record in the source
  uint64_t chunks_written = 0;
  uint64_t source_size_seen = 0;  // source size at the last observation
  int64_t size_seen_at_ms = 0;    // when that size was first observed
  uint64_t header_bytes = 0;      // length of the header line incl. its '\n'
  uint32_t header_crc32c = 0;
  int64_t updated_at_ms = 0;

  bool operator==(const OffsetState&) const = default;
};

// The whole file: header line + data row, '\n'-terminated.
std::string EncodeOffsetState(const OffsetState& state);

// Corruption (naming `uri`) for anything but a file EncodeOffsetState wrote:
// wrong header, unknown format version, bad field, checksum mismatch.
Result<OffsetState> DecodeOffsetState(std::string_view text,
                                      const std::string& uri);

}  // namespace txflow

#endif  // TXFLOW_CHUNKER_OFFSET_STATE_H_
