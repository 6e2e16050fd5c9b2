// Mechanism Y (SPEC §4): takes chunks from landing_zone/ in order, applies
// each as one micro-batch to per-merchant state, evaluates the patterns, and
// writes the new detections, 50 per file, exactly once.
//
// Finding the next chunk. The next chunk's name is known (it starts where
// the last one ended), so it is read by name; nothing depends on a listing,
// which is no snapshot while X writes (a directory read or an object listing
// can show a later chunk and miss an earlier one). When it is absent, it is
// missing for certain only once the chunker has moved past it: X writes its
// chunks in order, each durable before the next, and saves state/offset.csv
// after the chunks it covers. So if offset.csv (or, without one, a listed
// later chunk) shows X beyond the chunk, a read made after that sees the
// chunk if it exists at all; still absent then, it is a gap (Corruption).
// Otherwise the detector waits. A poll costs one read per chunk taken, and
// when idle one read of the absent chunk and one of offset.csv.
//
// Writes. Detection files and snapshots are written by a background thread
// (OrderedWorker) in the order the chunks produced them, each durable before
// the next starts, while the next chunks are computed. Poll(), FlushPending()
// and Checkpoint() return only after every write queued so far is done, so
// their results are on storage when they return, as if written inline.
//
// Exactly once. The detection sequence is a pure function of the chunks, so
// the state is a snapshot plus the chunks after it (the landing zone is the
// replayable log). Every `checkpoint_every` chunks, and on Checkpoint(), a
// snapshot (a delta state/detector/delta-*.bin of the merchants changed, or
// now and then a full image checkpoint-*.bin; then the CURRENT manifest)
// records the merchant states, the counters and the pending detections.
// Detection files are written create-only and never rewritten. On Open(), the
// detections already in files (read from the files written after the
// snapshot) are counted; replaying the chunks after the snapshot regenerates
// detections in the same order, and those already in files are skipped. So
// after a crash at any instant the files hold the same sequence of detections
// as an uninterrupted run (time columns aside), none missing or repeated.
//
// The caller must hold the root's detector lock (kDetectorLockKey).
// Not thread-safe (one caller thread; the writer thread is internal).
#ifndef TXFLOW_DETECTOR_DETECTOR_H_
#define TXFLOW_DETECTOR_DETECTOR_H_

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/ordered_worker.h"
#include "common/task_pool.h"
#include "detector/checkpoint.h"
#include "detector/chunk_decoder.h"
#include "detector/detection.h"
#include "detector/detection_file.h"
#include "detector/importance_table.h"
#include "detector/merchant_state.h"
#include "detector/sidecar_files.h"
#include "txflow/file_system.h"

namespace txflow {

struct DetectorOptions {
  Thresholds thresholds;
  int tz_offset_minutes = 330;  // IST
  // Chunks between snapshots: bounds the replay after a crash. With
  // incremental snapshots (a delta of the pairs changed, docs/detector.md,
  // "Checkpoints") a snapshot costs about its rows' changes, so 50 chunks
  // (500 k records: at 100 M records a 5.3 MB delta, and at most 0.4-0.75 s
  // of replay) keeps a restart near the restore time.
  uint64_t checkpoint_every = 50;
  size_t max_chunks_per_poll = 1000;
  // Threads that apply and evaluate a chunk's merchants, the calling thread
  // included (docs/detector.md, "Threads"). Results do not depend on it: a
  // merchant's rows are applied in chunk order by one thread, and the
  // detections are sorted before they are queued.
  int threads = 1;
  // Incremental checkpoints (docs/detector.md, "Checkpoints"): a snapshot is
  // a delta of the merchants and pairs changed since the previous one, until
  // the deltas since the last full image add up to more bytes than it, or
  // would number more than max_deltas; then a full image (compaction). The
  // count bounds the restore's work: applying a delta's pairs (random
  // updates into the state) costs about twice decoding as many bytes of
  // image, and at 100 M records the byte rule alone would let ~40 deltas of
  // 5 MB pile up. 0: a full image every time.
  uint64_t max_deltas = 16;
};

struct DetectorStats {
  uint64_t chunks = 0, records = 0, bad_rows = 0, files = 0;
  std::array<uint64_t, 3> per_pattern{};  // detections generated, by pattern
  uint64_t pending = 0;
};

struct PollReport {
  uint64_t chunks = 0, records = 0, detections = 0, files = 0;
  bool more = false;  // the poll stopped at max_chunks_per_poll
};

class Detector {
 public:
  // Does not own `root`, `importance` (may be null) or `clock`.
  Detector(FileSystem* root, const ImportanceTable* importance,
           DetectorOptions options, Clock* clock);
  // The same with a table still being read and parsed: the restore runs
  // beside both, then Open() waits for the table's bytes and checks their
  // fingerprint (returning the read's error, if it failed, before any
  // other); Poll(), Checkpoint() and
  // FlushPending() wait for the table first (and return the parse's error,
  // if it failed, before writing anything).
  Detector(FileSystem* root, PendingImportance* importance,
           DetectorOptions options, Clock* clock);
  // Without a table.
  Detector(FileSystem* root, std::nullptr_t, DetectorOptions options,
           Clock* clock)
      : Detector(root, static_cast<const ImportanceTable*>(nullptr),
                 std::move(options), clock) {}

  // Restores the last checkpoint (if any) and counts the detection files
  // written since. Corruption for a damaged checkpoint; InvalidArgument when
  // thresholds or the importance table differ from the checkpoint's. May be
  // called again after a failure (each call starts from the storage).
  Status Open();

  // Processes the chunks after the last one taken, in order. `stop`, if
  // given, is asked between chunks; when it returns true the poll ends early
  // (report.more is set) with every finished chunk fully applied. Writes that
  // an earlier failed call left queued are retried first. InvalidArgument
  // for a customer's sum past int64 leaves that chunk partly applied: the
  // detector must not poll again before Open() (which restores from storage).
  Result<PollReport> Poll(const std::function<bool()>& stop = nullptr);

  // Writes the pending detections (fewer than 50) as a last, shorter file.
  Status FlushPending();

  // Snapshots the state now.
  Status Checkpoint();

  const DetectorStats& stats() const { return stats_; }
  // Wall time of each chunk processed by this process, microseconds.
  const std::vector<int64_t>& chunk_micros() const { return chunk_micros_; }

  // Accessors for the metrics (obs/probes.h).
  // The key of the last snapshot queued or loaded ("" when none).
  const std::string& last_checkpoint_key() const {
    return last_checkpoint_key_;
  }

 private:
  // Reads the chunk that starts at next_record_ into chunk_text_; false when
  // it is not there and may still come (ReadNextChunk/ChunkerPassed: how a
  // gap is told from a chunk not yet written).
  Result<bool> ReadNextChunk();
  // Evidence that the chunker has moved past next_record_, in words, or ""
  // when there is none.
  Result<std::string> ChunkerPassed();
  // Applies the chunk in chunk_text_, which starts at record `start`.
  Status ProcessChunk(const std::string& key, uint64_t start);
  // Decodes chunk_text_ into decoded_: with threads, in parts on pool_
  // (ChunkDecoder::Split), put together in chunk order.
  Status DecodeChunk(const std::string& key, uint64_t start,
                     const std::string& uri);
  // Adds a chunk's new detections to pending_ (no I/O); returns how many
  // (replayed ones already in files are skipped).
  size_t Queue(std::vector<Detection>* found);
  // Queues the files files_ handed out (ranges of pending_, from its front)
  // for writing, and drops their detections from pending_.
  void WriteFiles(const std::vector<DetectionFileSpan>& files);
  // Queues a snapshot of the state as it is now (after QueueStats): a delta
  // or, when due, a full image.
  void QueueCheckpoint();
  // The header fields of a snapshot of the state as it is now.
  DetectorCheckpoint CheckpointHeader() const;
  // The importance table's fingerprint recorded by one restored object.
  struct RecordedImportance {
    std::string key;
    uint32_t crc;
  };
  // Restores the objects CURRENT names into merchants_, returning the newest
  // header (an empty one without CURRENT). Appends to `recorded` each
  // object's table fingerprint, in chain order, as it is read: the caller
  // checks them (CheckImportance) once the table's bytes are in.
  Result<DetectorCheckpoint> RestoreState(
      std::vector<RecordedImportance>* recorded);
  // The table's read error, if any; else InvalidArgument naming the first
  // of `recorded` taken with another table.
  Status CheckImportance(const std::vector<RecordedImportance>& recorded);
  // Deletes checkpoint and delta objects CURRENT does not name: left by a
  // crash between an object and CURRENT, or before superseded ones were
  // deleted. Without CURRENT deletes nothing, and a delta (written only once
  // a CURRENT existed) is Corruption: CURRENT was lost.
  Status RemoveUnreferencedState();
  // Queues the stats file of the chunks processed since the last one.
  void QueueStats();
  // Deletes evidence files whose detection file (in `files`, by seq) is
  // absent: left by a write cut between the two.
  Status RemoveOrphanEvidence(const std::map<uint64_t, std::string>& files);
  // A merchant this chunk touches, with the rows it gets and the batch
  // task (bin) that applies and evaluates it.
  struct Touched {
    MerchantState* merchant;
    uint32_t rows;
    uint32_t bin;
  };
  // Applies the chunk's rows (decoded_.rows to targets_, in order) to the
  // `touched` merchants, on pool_ when there is one, then clears targets_.
  void ApplyChunkRows(std::vector<Touched>* touched);
  // Evaluates the touched merchants (bins assigned when pool_ is set) into
  // *found, sorted in the spec's order.
  void EvaluateTouched(const std::vector<Touched>& touched,
                       std::vector<Detection>* found);
  // Assigns each touched merchant to one of pool_'s bins, largest first to
  // the least loaded, so the bins get similar numbers of rows.
  void AssignBins(std::vector<Touched>* touched) const;
  // Applies the rows targets_[row(0..n-1)] (each row of a merchant in chunk
  // order), with prefetching.
  template <typename RowAt>
  void ApplyRows(size_t n, RowAt row);

  // Waits for pending_importance_'s bytes, if any, and sets
  // importance_fingerprint_.
  Status ResolveFingerprint();
  // Waits for pending_importance_'s table, if any, and sets importance_.
  Status ResolveImportance();

  FileSystem* root_;
  const ImportanceTable* importance_;  // null until resolved
  PendingImportance* pending_importance_ = nullptr;
  // 0: no table; with a pending one, set by ResolveFingerprint.
  uint32_t importance_fingerprint_;
  bool fingerprint_known_ = true;
  DetectorOptions options_;
  Clock* clock_;
  int64_t ystart_ms_;

  struct MerchantEntry {
    std::unique_ptr<MerchantState> state;
    uint64_t last_attempt = 0;  // the last ProcessChunk call that touched it
    uint32_t touched = 0;       // its index in that call's touched list
  };
  // Looked up by std::string_view (transparent hash): the row loop builds
  // no key string.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const {
      return std::hash<std::string_view>()(id);
    }
  };
  std::unordered_map<std::string, MerchantEntry, IdHash, std::equal_to<>>
      merchants_;
  // The entry of merchant `id`, created (with an empty state) if new.
  MerchantEntry& FindMerchant(std::string_view id);
  // Where each of decoded_.rows goes, found while the chunk is checked,
  // then applied in one pass with prefetching (ApplyRows).
  struct Target {
    MerchantState* merchant;
    uint64_t hash;     // MerchantState::HashCustomer(customer)
    uint32_t touched;  // index of the merchant in ProcessChunk's touched
  };
  std::vector<Target> targets_;
  // With more than one thread: runs the bins, and each bin's row indexes
  // and detections (reused between chunks).
  std::unique_ptr<TaskPool> pool_;
  std::vector<std::vector<uint32_t>> bin_rows_;
  std::vector<std::vector<Detection>> bin_found_;
  std::string chunk_text_;  // the chunk being processed; reused
  uint64_t attempts_ = 0;   // ProcessChunk calls, for MerchantEntry
  ChunkDecoder decoder_;    // decodes chunk_text_; reused
  // The decoded chunk: decoder_'s results, or with threads the parts'
  // (part_decoders_) put together in merged_rows_ / merged_quarantine_.
  struct Decoded {
    const std::vector<DecodedRow>* rows = nullptr;
    const std::string* quarantine = nullptr;
    uint64_t bad_rows = 0, records = 0;
  };
  Decoded decoded_;
  std::vector<ChunkDecoder> part_decoders_;
  std::vector<DecodedRow> merged_rows_;
  std::string merged_quarantine_;
  std::string last_chunk_key_;
  uint64_t next_record_ = 0;
  uint64_t detections_ = 0;  // generated, incl. replayed
  uint64_t written_ = 0;     // in files
  // The latest detection time handed out (or found in files at Open):
  // detection times never go below it, whatever the wall clock does.
  int64_t last_detected_ms_ = 0;
  std::vector<Detection> pending_;
  // Which of pending_ go into which file (SPEC §4.4): files_.pending() is
  // pending_.size(), files_.files() is stats_.files.
  DetectionFileCursor files_;
  uint64_t since_checkpoint_ = 0;
  std::string last_checkpoint_key_;
  size_t last_image_size_ = 0;  // bytes of the last snapshot, to presize
  // What CURRENT names (as queued), the base's size and the deltas' total
  // size (the compaction budget), and the last delta's merchant images and
  // base, reused by a snapshot taken with no chunk since (same name).
  DetectorManifest manifest_;
  uint64_t base_bytes_ = 0, delta_bytes_ = 0, last_delta_bytes_ = 0;
  std::string last_delta_images_, last_delta_extends_;
  uint64_t last_delta_merchants_ = 0, last_delta_pairs_ = 0;
  DetectorStats stats_;
  std::vector<int64_t> chunk_micros_;
  // Chunks processed since the last stats file (docs/formats.md).
  std::vector<ChunkStatsRow> stats_rows_;
  // Last member: destroyed first, so its thread stops before the rest goes.
  std::unique_ptr<OrderedWorker> writer_;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_DETECTOR_H_
