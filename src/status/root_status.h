// What `txflow status` reports about a root: the chunker's and the detector's
// positions, the backlog between them, outputs and locks, read from storage
// alone (docs/operations.md, "txflow status").
//
// Read-only: CollectRootStatus only reads, stats and lists; it never writes
// or deletes an object. Bounded: it sends at most `max_requests` storage
// requests (retries inside the S3 client aside), whatever the root's size:
// fixed reads plus three listings capped at ListPages(max_requests) pages,
// and one single-key listing of the root when neither mechanism has state.
//
// Positions are those on storage: the detector's is its last checkpoint, so
// a running detector may be up to --checkpoint-every chunks further than
// reported, and backlog and lag are upper bounds.
#ifndef TXFLOW_STATUS_ROOT_STATUS_H_
#define TXFLOW_STATUS_ROOT_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chunker/offset_state.h"
#include "detector/checkpoint.h"
#include "io/lease_lock.h"
#include "txflow/file_system.h"

namespace txflow {

struct StatusOptions {
  std::string source;  // overrides the source named in offset.csv; may be ""
  uint64_t max_requests = 42;
  int64_t lag_warn_ms = 60'000;
};

// Requests a collection may send besides its three listings: offset.csv, the
// source's size, two locks, and CURRENT + one listing of the snapshot
// objects (every one CURRENT names must exist) + up to two
// header reads, twice if a checkpoint is replaced while it is being read.
inline constexpr uint64_t kFixedStatusRequests = 12;
// Keys per list page (S3's maximum and the client's default).
inline constexpr uint64_t kKeysPerListPage = 1000;
// The smallest budget: one page per listing.
inline constexpr uint64_t kMinStatusRequests = kFixedStatusRequests + 3;

// Pages each of the three listings may use under `max_requests`.
uint64_t ListPages(uint64_t max_requests);

struct LockStatus {
  std::string key;
  std::optional<LockHolder> holder;  // nullopt: no lock object
  bool expired = false;              // its lease ran out (holder gone)
};

struct RootStatus {
  std::string root;
  int64_t now_ms = 0;

  // Mechanism X: state/offset.csv, if any, and the source's size.
  std::optional<OffsetState> offset;
  std::string source_uri;  // --source, else the offset's; "" if neither
  std::optional<uint64_t> source_size;
  std::string source_error;  // why the size is unknown, if it is

  // Mechanism Y: the checkpoint CURRENT names, header only.
  std::optional<DetectorCheckpoint> checkpoint;
  std::string checkpoint_key;
  int64_t checkpoint_modified_ms = 0;  // 0: unknown

  // Chunks after the detector's position, up to the listing cap.
  uint64_t backlog_chunks = 0;
  bool backlog_truncated = false;
  std::string oldest_backlog_chunk;
  int64_t oldest_backlog_modified_ms = 0;  // 0: unknown

  uint64_t detection_files = 0;
  bool detection_files_truncated = false;
  std::string last_detection_file;
  uint64_t quarantine_files = 0;
  bool quarantine_truncated = false;

  LockStatus chunker_lock, detector_lock;

  // No offset.csv, no CURRENT and not one object under the root: a missing
  // or empty directory or prefix, most likely a wrong --root.
  bool nothing_here = false;

  // Reasons for the verdict: "broken" ones first make it broken, else
  // "lagging" ones make it lagging. Filled by Judge().
  std::vector<std::string> broken, lagging;

  uint64_t NextRecordDetected() const {
    return checkpoint ? checkpoint->next_record : 0;
  }
  uint64_t BacklogRecords() const;
  // now - the oldest backlog chunk's write; 0 with no backlog or no time.
  int64_t LagMs() const;
  int64_t CheckpointAgeMs() const;
};

// Reads the root. An error only for what makes the root's state unusable or
// unreadable: a corrupt or unreadable offset.csv, CURRENT, checkpoint or lock
// object, or a storage failure; the message names the object.
Result<RootStatus> CollectRootStatus(FileSystem* root,
                                     const StatusOptions& options,
                                     int64_t now_ms);

// Fills s->broken (nothing at all under the root, a gap in the landing zone,
// a source shorter than the chunker's offset) and s->lagging (lag over
// options.lag_warn_ms, an expired lock while its mechanism has work left).
void Judge(const StatusOptions& options, RootStatus* s);

}  // namespace txflow

#endif  // TXFLOW_STATUS_ROOT_STATUS_H_
