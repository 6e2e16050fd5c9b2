// The names of the landing zone's chunks and of their quarantine files
// (docs/formats.md). Pure: shared by the chunker, the detector and the Python
// package (the Spark job), so every engine finds the same objects.
#ifndef TXFLOW_CHUNKER_CHUNK_KEY_H_
#define TXFLOW_CHUNKER_CHUNK_KEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace txflow {

inline constexpr std::string_view kLandingPrefix = "landing_zone/chunk-";

// "landing_zone/chunk-000000010000.csv"
std::string ChunkKey(uint64_t first_record);
// The first record number of a chunk key; nullopt for any other key.
std::optional<uint64_t> ParseChunkKey(std::string_view key);
// "quarantine/chunk-000000010000.csv": the bad rows of that chunk.
std::string QuarantineKey(uint64_t first_record);

}  // namespace txflow

#endif  // TXFLOW_CHUNKER_CHUNK_KEY_H_
