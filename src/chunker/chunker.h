// Mechanism X (SPEC §3): cuts the next records of a source CSV into chunk
// objects under landing_zone/ and records its position in state/offset.csv.
//
// One Tick() stats the source, checks that its header is unchanged and that it
// did not shrink, then cuts up to max_chunks_per_tick chunks of
// chunk_rows complete records each, reading only from the saved byte offset.
// A shorter chunk is cut in drain mode (which also takes an unterminated last
// record and ends it with '\n') or once the source size has not changed for
// `linger`.
//
// Crash safety, at any instant:
//   - a chunk is written create-only and atomically, so it is absent or whole;
//   - offset.csv is saved after the chunks it covers, replace-if-match on the
//     version this chunker last saw, so a stale owner is fenced out;
//   - a chunk found at the current position (written before a crash that lost
//     the offset save) is adopted only if its bytes equal the source's there;
//     so a rerun produces the same chunk names and bytes and no record is lost
//     or put into two chunks.
// What a failed Tick() leaves behind: chunks that are exact copies of source
// ranges and an offset.csv at or behind them. The next Tick() reloads state.
//
// The caller must hold the root's chunker lock (LeaseLock on kChunkerLockKey).
// Not thread-safe.
#ifndef TXFLOW_CHUNKER_CHUNKER_H_
#define TXFLOW_CHUNKER_CHUNKER_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "chunker/chunk_key.h"
#include "chunker/offset_state.h"
#include "common/clock.h"
#include "txflow/file_system.h"

namespace txflow {

inline constexpr std::string_view kChunkerLockKey = "state/chunker.lock";

struct ChunkerOptions {
  uint64_t chunk_rows = 10'000;
  std::chrono::milliseconds linger{30'000};
  uint64_t max_chunks_per_tick = 1;
  bool drain = false;
  // A record longer than this is an error (an unterminated quote, or not CSV).
  uint64_t max_record_bytes = 64ull << 20;
};

struct TickReport {
  uint64_t chunks = 0;   // chunks cut (or adopted) by this tick
  uint64_t records = 0;  // records in them
  uint64_t bytes = 0;    // source bytes in them
  bool drained = false;  // drain mode: every byte of the source is chunked
};

class Chunker {
 public:
  // Does not own the file systems or the clock. `source_uri` is recorded in
  // offset.csv; a root that was chunking another source is refused.
  Chunker(FileSystem* source_fs, std::string source_key, std::string source_uri,
          FileSystem* root_fs, ChunkerOptions options, Clock* clock);

  Result<TickReport> Tick();

  // The state after the last successful Tick().
  const OffsetState& state() const { return state_; }

 private:
  Result<TickReport> TickOnce();
  Status Load();
  Status ReadHeader(uint64_t size, bool* complete);
  Status VerifyHeader(uint64_t size);
  // Makes window_ hold at least `want` bytes from state_.byte_offset (fewer
  // at the source end `size`).
  Status FillWindow(uint64_t want, uint64_t size);
  // Cuts one chunk if the rules allow; false when it must wait (or is done).
  Result<bool> CutOne(uint64_t size, int64_t now, TickReport* report);
  // Adopts the existing chunk at the current position; `consumed` and
  // `records` receive what it covers of the source.
  Status Adopt(const std::string& key, const std::string& mine, uint64_t size,
               uint64_t* consumed, uint64_t* records);
  Status Save(int64_t now);

  FileSystem* source_fs_;
  std::string source_key_;
  std::string source_uri_;
  FileSystem* root_fs_;
  ChunkerOptions options_;
  Clock* clock_;

  bool loaded_ = false;
  OffsetState state_;
  std::string offset_version_;  // empty: offset.csv does not exist yet
  std::string header_;          // the source's header line, verbatim
  // The source version whose header was last verified: an unchanged source
  // (same version) is not read again, so an idle tick costs one Stat.
  std::string verified_version_;
  std::string window_;  // source bytes from state_.byte_offset on
  // Set by Load(): chunks past the saved offset may exist (a crash lost the
  // offset save), so the next keys are checked with Stat before writing and
  // adopted by read-and-compare instead of being uploaded again. Cleared by
  // the first key that is absent.
  bool recovering_ = false;
  // Chunks adopted since the last Save(): saved as soon as recovery ends so a
  // crash loop never repeats the same adoption work.
  uint64_t adopted_unsaved_ = 0;
  double avg_record_bytes_ = 128.0;
};

}  // namespace txflow

#endif  // TXFLOW_CHUNKER_CHUNKER_H_
