#include "status/root_status.h"

#include <algorithm>

#include "chunker/chunk_key.h"

namespace txflow {
namespace {

constexpr std::string_view kDetectionPrefix = "detections/detections_";
constexpr std::string_view kQuarantinePrefix = "quarantine/chunk-";
constexpr std::string_view kChunkerLockKey = "state/chunker.lock";
// The pending list (fewer than 50 detections) fits in the first read unless
// names are huge; the second read is the cap.
constexpr uint64_t kHeaderRead = 64 << 10;
constexpr uint64_t kHeaderReadMax = 4 << 20;

// A listing capped at `pages` pages: the keys and whether it hit the cap.
struct Listing {
  std::vector<ObjectInfo> keys;
  bool truncated = false;
};

Result<Listing> ListCapped(FileSystem* root, std::string_view prefix,
                           std::string start_after, uint64_t pages) {
  ListOptions opts;
  opts.prefix = std::string(prefix);
  opts.start_after = std::move(start_after);
  opts.max_keys = pages * kKeysPerListPage;
  TXFLOW_ASSIGN_OR_RETURN(std::vector<ObjectInfo> keys, root->List(opts));
  Listing out;
  // A full last page may or may not have been the end: say "at least".
  out.truncated = keys.size() >= opts.max_keys;
  out.keys = std::move(keys);
  return out;
}

// NotFound is "none yet" for the optional objects; anything else is an error.
Result<std::optional<std::string>> ReadOptional(FileSystem* root,
                                                std::string_view key) {
  auto data = root->Read(key);
  if (data.ok()) return std::optional<std::string>(std::move(data).value());
  if (data.status().code() == StatusCode::kNotFound)
    return std::optional<std::string>();
  return data.status();
}

Status ReadOffset(FileSystem* root, RootStatus* s) {
  TXFLOW_ASSIGN_OR_RETURN(auto text, ReadOptional(root, kOffsetKey));
  if (!text) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(OffsetState o,
                          DecodeOffsetState(*text, root->Uri(kOffsetKey)));
  s->offset = std::move(o);
  return Status::OK();
}

// The source's size by one stat. A source status cannot reach (another
// store, no credentials here) is reported, not fatal: X's own state is fine.
void StatSource(RootStatus* s) {
  if (s->source_uri.empty()) return;
  auto loc = SplitObjectUri(s->source_uri);
  if (!loc.ok()) {
    s->source_error = loc.status().message();
    return;
  }
  auto fs = OpenFileSystem(loc->root_uri);
  if (!fs.ok()) {
    s->source_error = fs.status().message();
    return;
  }
  auto info = (*fs)->Stat(loc->key);
  if (!info.ok()) {
    s->source_error = info.status().message();
    return;
  }
  s->source_size = info->size;
}

Status ReadLock(FileSystem* root, std::string_view key, int64_t now_ms,
                LockStatus* out) {
  out->key = std::string(key);
  TXFLOW_ASSIGN_OR_RETURN(auto text, ReadOptional(root, key));
  if (!text) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(LockHolder h,
                          DecodeLockObject(*text, root->Uri(key)));
  out->expired = now_ms > h.expires_ms;
  out->holder = std::move(h);
  return Status::OK();
}

// The header of the checkpoint `info` names, from a prefix of it.
Result<DetectorCheckpoint> ReadCheckpointHeader(FileSystem* root,
                                                const ObjectInfo& info) {
  const std::string uri = root->Uri(info.key);
  TXFLOW_ASSIGN_OR_RETURN(std::string head,
                          root->ReadRange(info.key, 0, kHeaderRead));
  auto c = DecodeCheckpointHeader(head, info.size, uri);
  if (c.ok() || head.size() >= info.size) return c;
  TXFLOW_ASSIGN_OR_RETURN(head, root->ReadRange(info.key, 0, kHeaderReadMax));
  return DecodeCheckpointHeader(head, info.size, uri);
}

// One attempt at CURRENT and the newest object it names (the last delta, or
// the base without deltas): that header is the detector's position. NotFound
// when the object vanished meanwhile (the detector compacted: try again).
Status ReadCheckpointOnce(FileSystem* root, RootStatus* s) {
  TXFLOW_ASSIGN_OR_RETURN(auto current,
                          ReadOptional(root, kDetectorCurrentKey));
  if (!current) return Status::OK();  // no checkpoint yet
  TXFLOW_ASSIGN_OR_RETURN(
      DetectorManifest manifest,
      DecodeManifest(*current, root->Uri(kDetectorCurrentKey)));
  const std::string& name =
      manifest.deltas.empty() ? manifest.base : manifest.deltas.back();
  const std::string key = std::string(kDetectorStateDir) + name;
  // Every object CURRENT names must exist (the detector refuses to start
  // otherwise). One listing finds them: after CURRENT, state/detector/ sorts
  // checkpoint-*, delta-*, then stats/, and the detector's start removes
  // leftover snapshot objects, so one page holds them all.
  ListOptions opts;
  opts.prefix = std::string(kDetectorStateDir);
  opts.start_after = std::string(kDetectorCurrentKey);
  opts.max_keys = kKeysPerListPage;
  TXFLOW_ASSIGN_OR_RETURN(std::vector<ObjectInfo> list, root->List(opts));
  std::vector<std::string> named = manifest.deltas;
  named.push_back(manifest.base);
  for (const std::string& n : named) {
    const std::string k = std::string(kDetectorStateDir) + n;
    if (std::none_of(list.begin(), list.end(),
                     [&](const ObjectInfo& i) { return i.key == k; })) {
      return Status::NotFound(root->Uri(kDetectorCurrentKey) + " names " + n +
                              ", which does not exist");
    }
  }
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const ObjectInfo& i) { return i.key == key; });
  TXFLOW_ASSIGN_OR_RETURN(DetectorCheckpoint c,
                          ReadCheckpointHeader(root, *it));
  s->checkpoint = std::move(c);
  s->checkpoint_key = key;
  s->checkpoint_modified_ms = it->modified_ms;
  return Status::OK();
}

Status ReadCheckpoint(FileSystem* root, RootStatus* s) {
  Status st = ReadCheckpointOnce(root, s);
  if (st.code() != StatusCode::kNotFound) return st;
  // The detector replaces CURRENT, then deletes the superseded base and
  // deltas: a second look finds the new one. Twice missing is a broken root.
  st = ReadCheckpointOnce(root, s);
  if (st.code() == StatusCode::kNotFound)
    return Status::Corruption(st.message());
  return st;
}

// Chunks after the detector's position. Listed after offset.csv and the
// checkpoint were read: chunks are written before the offset that covers
// them and never deleted, so every chunk those name is in this listing.
Status ListBacklog(FileSystem* root, uint64_t pages, RootStatus* s) {
  const std::string after =
      s->checkpoint && !s->checkpoint->last_chunk_key.empty()
          ? s->checkpoint->last_chunk_key
          : "";
  TXFLOW_ASSIGN_OR_RETURN(Listing l,
                          ListCapped(root, kLandingPrefix, after, pages));
  std::erase_if(l.keys, [](const ObjectInfo& i) {
    return !ParseChunkKey(i.key).has_value();
  });
  s->backlog_chunks = l.keys.size();
  s->backlog_truncated = l.truncated;
  if (!l.keys.empty()) {
    s->oldest_backlog_chunk = l.keys.front().key;
    s->oldest_backlog_modified_ms = l.keys.front().modified_ms;
  }
  return Status::OK();
}

Status ListOutputs(FileSystem* root, uint64_t pages, RootStatus* s) {
  TXFLOW_ASSIGN_OR_RETURN(Listing d,
                          ListCapped(root, kDetectionPrefix, "", pages));
  s->detection_files = d.keys.size();
  s->detection_files_truncated = d.truncated;
  // Names sort by epoch, then sequence: the last key is the newest file,
  // unless the listing stopped at the cap.
  if (!d.keys.empty() && !d.truncated)
    s->last_detection_file = d.keys.back().key;
  TXFLOW_ASSIGN_OR_RETURN(Listing q,
                          ListCapped(root, kQuarantinePrefix, "", pages));
  s->quarantine_files = q.keys.size();
  s->quarantine_truncated = q.truncated;
  return Status::OK();
}

// With neither offset.csv nor a checkpoint, whether anything at all is under
// the root (one key is enough). Costs a request only on such roots, which
// skip the checkpoint reads, so the budget holds.
Status CheckNothingHere(FileSystem* root, RootStatus* s) {
  if (s->offset || s->checkpoint) return Status::OK();
  ListOptions opts;
  opts.max_keys = 1;
  TXFLOW_ASSIGN_OR_RETURN(std::vector<ObjectInfo> keys, root->List(opts));
  s->nothing_here = keys.empty();
  return Status::OK();
}

}  // namespace

uint64_t ListPages(uint64_t max_requests) {
  if (max_requests < kMinStatusRequests) return 1;
  return (max_requests - kFixedStatusRequests) / 3;
}

uint64_t RootStatus::BacklogRecords() const {
  const uint64_t cut = offset ? offset->next_record : 0;
  const uint64_t done = NextRecordDetected();
  return cut > done ? cut - done : 0;
}

int64_t RootStatus::LagMs() const {
  if (backlog_chunks == 0 || oldest_backlog_modified_ms == 0) return 0;
  return std::max<int64_t>(0, now_ms - oldest_backlog_modified_ms);
}

int64_t RootStatus::CheckpointAgeMs() const {
  if (checkpoint_modified_ms == 0) return 0;
  return std::max<int64_t>(0, now_ms - checkpoint_modified_ms);
}

Result<RootStatus> CollectRootStatus(FileSystem* root,
                                     const StatusOptions& options,
                                     int64_t now_ms) {
  RootStatus s;
  s.root = RootUri(*root);
  s.now_ms = now_ms;
  const uint64_t pages = ListPages(options.max_requests);
  // Order matters: offset, then checkpoint, then the landing zone (see
  // ListBacklog).
  TXFLOW_RETURN_IF_ERROR(ReadOffset(root, &s));
  s.source_uri = !options.source.empty() ? options.source
                 : s.offset              ? s.offset->source
                                         : "";
  StatSource(&s);
  TXFLOW_RETURN_IF_ERROR(ReadCheckpoint(root, &s));
  TXFLOW_RETURN_IF_ERROR(CheckNothingHere(root, &s));
  TXFLOW_RETURN_IF_ERROR(ListBacklog(root, pages, &s));
  TXFLOW_RETURN_IF_ERROR(ListOutputs(root, pages, &s));
  TXFLOW_RETURN_IF_ERROR(
      ReadLock(root, kChunkerLockKey, now_ms, &s.chunker_lock));
  TXFLOW_RETURN_IF_ERROR(
      ReadLock(root, kDetectorLockKey, now_ms, &s.detector_lock));
  Judge(options, &s);
  return s;
}

namespace {

// A gap: the first chunk after the detector's position does not start where
// the detector expects, or the chunker is past a chunk that is not there.
std::string FindGap(const RootStatus& s) {
  const uint64_t expected = s.NextRecordDetected();
  if (!s.oldest_backlog_chunk.empty()) {
    const uint64_t first = ParseChunkKey(s.oldest_backlog_chunk).value_or(0);
    if (first == expected) return "";
    return "gap in the landing zone: " + ChunkKey(expected) +
           " is missing (the detector expects record " +
           std::to_string(expected) + " next; the next chunk is " +
           s.oldest_backlog_chunk + ")";
  }
  if (s.offset && s.offset->next_record > expected) {
    return "gap in the landing zone: " + ChunkKey(expected) +
           " is missing, but state/offset.csv says the chunker is at record " +
           std::to_string(s.offset->next_record);
  }
  return "";
}

}  // namespace

void Judge(const StatusOptions& options, RootStatus* s) {
  if (s->nothing_here) {
    s->broken.push_back(s->root +
                        ": nothing here: no state/offset.csv, no detector "
                        "checkpoint; is the root right?");
  }
  if (std::string gap = FindGap(*s); !gap.empty())
    s->broken.push_back(std::move(gap));
  if (s->offset && s->source_size && *s->source_size < s->offset->byte_offset) {
    s->broken.push_back("the source is shorter (" +
                        std::to_string(*s->source_size) +
                        " bytes) than the chunker's offset (" +
                        std::to_string(s->offset->byte_offset) + ")");
  }
  if (s->LagMs() > options.lag_warn_ms) {
    s->lagging.push_back(
        "the oldest unprocessed chunk (" + s->oldest_backlog_chunk + ") is " +
        std::to_string(s->LagMs() / 1000) + " s old, over --lag-warn");
  }
  if (s->detector_lock.expired && s->backlog_chunks > 0) {
    s->lagging.push_back(
        "the detector's lock expired while chunks wait: its holder stopped");
  }
  const bool unchunked =
      s->offset && s->source_size && *s->source_size > s->offset->byte_offset;
  if (s->chunker_lock.expired && unchunked) {
    s->lagging.push_back(
        "the chunker's lock expired while the source has unchunked bytes: its "
        "holder stopped");
  }
}

}  // namespace txflow
