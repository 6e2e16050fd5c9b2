#include "chunker/chunk_key.h"

#include <cinttypes>
#include <cstdio>

namespace txflow {

std::string ChunkKey(uint64_t first_record) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%012" PRIu64 ".csv", first_record);
  return std::string(kLandingPrefix) + buf;
}

std::optional<uint64_t> ParseChunkKey(std::string_view key) {
  if (key.substr(0, kLandingPrefix.size()) != kLandingPrefix)
    return std::nullopt;
  key.remove_prefix(kLandingPrefix.size());
  if (key.size() != 16 || key.substr(12) != ".csv") return std::nullopt;
  uint64_t v = 0;
  for (char c : key.substr(0, 12)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string QuarantineKey(uint64_t first_record) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "quarantine/chunk-%012" PRIu64 ".csv",
                first_record);
  return buf;
}

}  // namespace txflow
