// Mechanism Y's checkpoint: everything needed to resume exactly where a
// snapshot was taken (docs/formats.md, "Detector checkpoint").
//
// Binary: magic "TXFYCKPT", format version (u32), payload length (u64), the
// payload, CRC-32C of the payload (u32). Anything else (truncated, flipped
// bit, other version) is Corruption naming the object; never a silent
// restart from zero.
#ifndef TXFLOW_DETECTOR_CHECKPOINT_H_
#define TXFLOW_DETECTOR_CHECKPOINT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detector/detection.h"
#include "txflow/status.h"

namespace txflow {

inline constexpr std::string_view kDetectorStateDir = "state/detector/";
inline constexpr std::string_view kDetectorCurrentKey =
    "state/detector/CURRENT";
inline constexpr std::string_view kDetectorLockKey = "state/detector.lock";
// 2: each pending detection carries its Evidence. Version 1 is still read
// (its pending detections get evidence.known = false).
inline constexpr uint32_t kCheckpointVersion = 2;

struct DetectorCheckpoint {
  uint64_t chunks = 0;         // chunks processed
  std::string last_chunk_key;  // "" before the first chunk
  uint64_t next_record = 0;    // first record of the next chunk
  uint64_t records = 0;        // records seen (good and bad)
  uint64_t bad_rows = 0;
  uint64_t detections = 0;  // detections generated (next index)
  uint64_t written = 0;     // detections in files when taken
  uint64_t files = 0;       // detection files written (last seq)
  std::array<uint64_t, 3> per_pattern{};
  uint32_t thresholds_crc = 0;     // a restart with other thresholds is refused
  uint32_t importance_crc = 0;     // ... or another importance table (0: none)
  std::vector<Detection> pending;  // detections [written, detections), if any
  uint64_t merchant_count = 0;
  std::string merchants;  // merchant_count MerchantState images
};

std::string EncodeCheckpoint(const DetectorCheckpoint& c);

// The same image built in place, for a caller that appends the merchant
// images itself (no copy of a state that can be hundreds of MB):
// BeginCheckpoint writes everything up to the merchant images (ignoring
// c.merchants), the caller appends exactly c.merchant_count images to *out,
// and FinishCheckpoint fills in the payload length and appends the CRC.
void BeginCheckpoint(const DetectorCheckpoint& c, std::string* out);
void FinishCheckpoint(std::string* out);
Result<DetectorCheckpoint> DecodeCheckpoint(std::string_view data,
                                            const std::string& uri);
// The same without copying the merchant images: c.merchants is left empty
// and *images points at them inside `data`.
Result<DetectorCheckpoint> DecodeCheckpoint(std::string_view data,
                                            const std::string& uri,
                                            std::string_view* images);

// The counters, position and pending detections of a checkpoint (everything
// but the merchant images, c.merchants left empty) from the first bytes of
// the object, for a reader such as `txflow status` that must not load a
// state of hundreds of MB. `object_size` is the whole object's size, checked
// against the payload length. Reads a delta's header too (the same fields,
// at the same place). Does not verify the CRC (that needs every
// byte); Corruption for a bad magic, version, length or field, and for a
// prefix that ends before the fields do (read more and retry if the prefix
// was shorter than the object).
Result<DetectorCheckpoint> DecodeCheckpointHeader(std::string_view prefix,
                                                  uint64_t object_size,
                                                  const std::string& uri);

// "state/detector/checkpoint-<chunks:012>.bin"
std::string CheckpointKey(uint64_t chunks);

// Incremental checkpoints (docs/formats.md, "Detector delta" and "Detector
// manifest"). A delta is framed like a full checkpoint (magic "TXFYDLTA",
// version, length, payload, CRC-32C); its payload is the full checkpoint's
// header fields (position, counters, fingerprints, pending detections; its
// merchant_count is the number of merchant deltas), then the name of the
// checkpoint object it extends, then merchant_count MerchantState delta
// images (MerchantState::SerializeDelta), sorted by merchant id.
inline constexpr uint32_t kDeltaVersion = 1;

// "state/detector/delta-<chunks:012>.bin"
std::string DeltaKey(uint64_t chunks);

// The same in-place building as Begin/FinishCheckpoint: BeginDelta writes
// the frame, c's header fields and `extends` (a name relative to
// kDetectorStateDir); the caller appends c.merchant_count delta images and
// calls FinishCheckpoint.
void BeginDelta(const DetectorCheckpoint& c, const std::string& extends,
                std::string* out);
struct DetectorDelta {
  DetectorCheckpoint header;  // header.merchants: the delta images
  std::string extends;
};
// Corruption naming `uri` for anything but a whole, valid delta.
Result<DetectorDelta> DecodeDelta(std::string_view data,
                                  const std::string& uri);
// The same with header.merchants left empty and *images inside `data`.
Result<DetectorDelta> DecodeDelta(std::string_view data, const std::string& uri,
                                  std::string_view* images);

// CURRENT: which objects make up the state. The base is a full checkpoint
// ("checkpoint-<chunks>.bin"); the deltas ("delta-<chunks>.bin") follow in
// order, each extending the one before it (the first extends the base),
// their chunk counts ascending and not below the base's. Names are relative
// to kDetectorStateDir.
struct DetectorManifest {
  std::string base;
  std::vector<std::string> deltas;
};
// 1: magic "TXFYMANI", version, length, payload (base, delta count, delta
// names), CRC-32C, the checkpoint framing.
inline constexpr uint32_t kManifestVersion = 1;
std::string EncodeManifest(const DetectorManifest& m);
// Reads a manifest, or the one-line CURRENT of txflow before manifests
// ("checkpoint-<chunks>.bin\n": a base without deltas). Corruption naming
// `uri` for anything else, including names out of order.
Result<DetectorManifest> DecodeManifest(std::string_view data,
                                        const std::string& uri);
// The chunk count in a "checkpoint-<12 digits>.bin" (prefix "checkpoint-")
// or "delta-<12 digits>.bin" (prefix "delta-") name; nullopt otherwise.
std::optional<uint64_t> ParseStateName(std::string_view name,
                                       std::string_view prefix);

uint32_t ThresholdsFingerprint(const Thresholds& t);

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_CHECKPOINT_H_
