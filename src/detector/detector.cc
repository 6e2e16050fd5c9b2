#include "detector/detector.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <functional>
#include <iterator>
#include <map>

#include "chunker/chunker.h"
#include "chunker/offset_state.h"
#include "common/log.h"
#include "detector/detection_file.h"
#include "detector/sidecar_files.h"

namespace txflow {
namespace {

// Writes queued ahead of the writer thread before a chunk waits for it. When
// a large merchant first passes the UPGRADE threshold, one chunk yields
// thousands of detections: ~100 files, each fsynced. With 64 slots the chunk
// then waited for most of them (1.5 s at 100 M records, docs/performance.md);
// 1024 files of at most 50 detections are a few MB of memory, and every
// Poll still ends only after all of them are durable.
constexpr size_t kMaxQueuedWrites = 1024;
// Keys listed to find a later chunk when there is no offset.csv: one S3
// page (other objects under landing_zone/ may sort between chunks).
constexpr size_t kListForLaterChunk = 1000;

// Writes one detection file create-only. A lost answer to our own create
// shows up as AlreadyExists with the same content, which is success.
Status WriteDetectionFile(FileSystem* root, const std::string& key,
                          const std::string& text) {
  auto w = root->Write(key, text, {WriteMode::kCreateOnly, ""});
  if (w.ok()) return Status::OK();
  if (w.status().code() != StatusCode::kAlreadyExists) return w.status();
  auto existing = root->Read(key);
  if (!existing.ok()) return existing.status();  // e.g. retryable
  if (*existing != text) {
    return Status::Aborted(root->Uri(key) +
                           ": exists with other content (two detectors "
                           "on one root?)");
  }
  return Status::OK();
}

// Writes a detection file's evidence, then the file (docs/detector.md,
// "Evidence"): the evidence is durable before its detection is visible, so no
// detection file is ever without it. Overwriting is safe: until its
// detection file exists an evidence file is only an unfinished write of
// this detector (the lock holder), and a replay writes the same bytes.
Status WriteDetectionAndEvidence(FileSystem* root, const std::string& key,
                                 const std::string& text,
                                 const std::string& evidence) {
  TXFLOW_RETURN_IF_ERROR(
      root->Write(EvidenceKeyFor(key), evidence, {}).status());
  return WriteDetectionFile(root, key, text);
}

}  // namespace

Detector::Detector(FileSystem* root, PendingImportance* importance,
                   DetectorOptions options, Clock* clock)
    : Detector(root, static_cast<const ImportanceTable*>(nullptr), options,
               clock) {
  pending_importance_ = importance;
  fingerprint_known_ = importance == nullptr;
}

Status Detector::ResolveFingerprint() {
  if (fingerprint_known_) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(importance_fingerprint_,
                          pending_importance_->Fingerprint());
  fingerprint_known_ = true;
  return Status::OK();
}

Status Detector::ResolveImportance() {
  if (pending_importance_ == nullptr || importance_ != nullptr) {
    return Status::OK();
  }
  TXFLOW_RETURN_IF_ERROR(ResolveFingerprint());
  TXFLOW_ASSIGN_OR_RETURN(importance_, pending_importance_->Wait());
  return Status::OK();
}

Status Detector::CheckImportance(
    const std::vector<RecordedImportance>& recorded) {
  // Also with nothing recorded: a table that cannot be read is Open's error
  // on every root, before Open repairs anything.
  TXFLOW_RETURN_IF_ERROR(ResolveFingerprint());
  for (const RecordedImportance& r : recorded) {
    if (r.crc != importance_fingerprint_) {
      return Status::InvalidArgument(
          root_->Uri(r.key) +
          ": importance table differs from the one this root "
          "was detected with; use the same table or a new root");
    }
  }
  return Status::OK();
}

Detector::Detector(FileSystem* root, const ImportanceTable* importance,
                   DetectorOptions options, Clock* clock)
    : root_(root),
      importance_(importance),
      importance_fingerprint_(importance ? importance->fingerprint() : 0),
      options_(options),
      clock_(clock),
      ystart_ms_(clock->NowMs()),
      writer_(std::make_unique<OrderedWorker>(kMaxQueuedWrites)) {
  if (options_.threads > 1)
    pool_ = std::make_unique<TaskPool>(options_.threads);
}

Status Detector::Open() {
  // Open may be called again after it failed part way (a retry): start over.
  // Writes still queued from before are dropped, as in a crash: what they
  // held is regenerated from the storage's state.
  writer_ = std::make_unique<OrderedWorker>(kMaxQueuedWrites);
  merchants_.clear();
  last_checkpoint_key_.clear();
  last_detected_ms_ = 0;
  since_checkpoint_ = 0;
  // The importance table is read beside the restore: an object taken with
  // another table is the error to report, rather than anything the restore
  // found wrong after that object (it stopped there before the table was
  // read beside it, and reported the same).
  std::vector<RecordedImportance> recorded;
  Result<DetectorCheckpoint> restored = RestoreState(&recorded);
  TXFLOW_RETURN_IF_ERROR(CheckImportance(recorded));
  TXFLOW_ASSIGN_OR_RETURN(DetectorCheckpoint c, std::move(restored));
  last_chunk_key_ = c.last_chunk_key;
  next_record_ = c.next_record;
  detections_ = c.detections;
  written_ = c.written;
  pending_ = std::move(c.pending);
  stats_.chunks = c.chunks;
  stats_.records = c.records;
  stats_.bad_rows = c.bad_rows;
  stats_.files = c.files;
  stats_.per_pattern = c.per_pattern;

  // Files written after the snapshot hold detections it counts as pending or
  // not yet generated: count them so replay skips them.
  TXFLOW_ASSIGN_OR_RETURN(auto files,
                          root_->List({std::string(kDetectionsPrefix), "", 0}));
  std::map<uint64_t, std::string> by_seq;
  for (const auto& f : files) {
    if (auto seq = ParseDetectionFileSeq(f.key)) {
      if (!by_seq.emplace(*seq, f.key).second) {
        return Status::Corruption(root_->Uri(f.key) +
                                  ": two detection files with sequence " +
                                  std::to_string(*seq));
      }
    }
  }
  uint64_t expect = 1;
  for (const auto& [seq, key] : by_seq) {
    if (seq != expect++) {
      return Status::Corruption(root_->Uri(key) +
                                ": detection file sequence has a gap before " +
                                std::to_string(seq));
    }
    // detections_<epoch>_<seq>.csv: times never go below the newest file's.
    const size_t epoch_at = kDetectionsPrefix.size();
    const int64_t epoch = std::strtoll(key.c_str() + epoch_at, nullptr, 10);
    last_detected_ms_ = std::max(last_detected_ms_, epoch * 1000);
    if (seq <= c.files) continue;
    TXFLOW_RETURN_IF_ERROR(root_->ReadInto(key, &chunk_text_));
    const std::string& text = chunk_text_;
    written_ += CountDetectionRows(text);
    stats_.files = seq;
  }
  TXFLOW_RETURN_IF_ERROR(RemoveOrphanEvidence(by_seq));
  TXFLOW_RETURN_IF_ERROR(RemoveUnreferencedState());
  stats_rows_.clear();
  for (const Detection& d : pending_) {
    last_detected_ms_ = std::max(last_detected_ms_, d.detected_at_ms);
  }
  const uint64_t already =
      std::min<uint64_t>(written_ - c.written, pending_.size());
  pending_.erase(pending_.begin(),
                 pending_.begin() + static_cast<ptrdiff_t>(already));
  stats_.pending = pending_.size();
  files_ = DetectionFileCursor(stats_.files, pending_.size());
  return Status::OK();
}

namespace {

// Runs fn(i) for i in [0, weights.size()) on `pool` (inline when null),
// heaviest first so that one large merchant does not finish last alone.
// Returns the failure of the lowest i that failed (the same answer whatever
// the timing).
Status ParallelFor(TaskPool* pool, const std::vector<size_t>& weights,
                   const std::function<Status(size_t)>& fn) {
  std::vector<size_t> order(weights.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return weights[a] > weights[b]; });
  std::vector<Status> result(order.size());
  const auto one = [&](size_t k) { result[order[k]] = fn(order[k]); };
  if (pool != nullptr) {
    pool->Run(order.size(), one);
  } else {
    for (size_t k = 0; k < order.size(); ++k) one(k);
  }
  for (Status& s : result) {
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// One merchant's image in one delta.
struct DeltaPart {
  std::string_view bytes;
  const std::string* uri;
  size_t delta;  // its delta's position in the chain
};

// Applies each merchant's delta parts in chain order, merchants in parallel
// on `pool`. A merchant stops at its first bad part; of all failures, the
// one returned is in the earliest delta of the chain (later ones extend
// it), then the lowest merchant id: the same answer whatever the threads
// did.
Status ApplyDeltaParts(
    TaskPool* pool,
    std::map<MerchantState*, std::vector<DeltaPart>>* parts_of) {
  std::vector<std::pair<MerchantState*, std::vector<DeltaPart>*>> work;
  std::vector<size_t> weights_of;
  for (auto& [m, list] : *parts_of) {
    work.push_back({m, &list});
    size_t w = 0;
    for (const DeltaPart& part : list) w += part.bytes.size();
    weights_of.push_back(w);
  }
  std::vector<Status> failed(work.size());
  std::vector<size_t> failed_delta(work.size(), SIZE_MAX);
  auto apply = [&](size_t i) -> Status {
    for (const DeltaPart& part : *work[i].second) {
      std::string_view in = part.bytes;
      Status s = work[i].first->ApplyDelta(&in);
      if (s.ok() && !in.empty()) {
        s = Status::Corruption("merchant delta malformed");
      }
      if (!s.ok()) {
        failed[i] = s.WithContext(*part.uri);
        failed_delta[i] = part.delta;
        break;
      }
    }
    return Status::OK();
  };
  ParallelFor(pool, weights_of, apply).IgnoreError();  // in `failed`
  size_t worst = work.size();
  for (size_t i = 0; i < work.size(); ++i) {
    if (failed[i].ok()) continue;
    if (worst == work.size() || failed_delta[i] < failed_delta[worst] ||
        (failed_delta[i] == failed_delta[worst] &&
         work[i].first->id() < work[worst].first->id())) {
      worst = i;
    }
  }
  return worst != work.size() ? failed[worst] : Status::OK();
}

}  // namespace

Result<DetectorCheckpoint> Detector::RestoreState(
    std::vector<RecordedImportance>* recorded) {
  const auto t0 = std::chrono::steady_clock::now();
  manifest_ = DetectorManifest();
  base_bytes_ = delta_bytes_ = last_delta_bytes_ = 0;
  last_delta_images_.clear();
  last_delta_extends_.clear();
  last_delta_merchants_ = last_delta_pairs_ = 0;
  auto current = root_->Read(kDetectorCurrentKey);
  if (!current.ok()) {
    if (current.status().IsNotFound()) return DetectorCheckpoint();
    return current.status();
  }
  TXFLOW_ASSIGN_OR_RETURN(
      DetectorManifest manifest,
      DecodeManifest(*current, root_->Uri(kDetectorCurrentKey)));
  // Refuses a snapshot taken with other thresholds; records its table's.
  auto check = [&](const DetectorCheckpoint& c, const std::string& key) {
    if (c.thresholds_crc != ThresholdsFingerprint(options_.thresholds)) {
      return Status::InvalidArgument(
          root_->Uri(key) +
          ": thresholds differ from the ones this root was "
          "detected with; use the same flags or a new root");
    }
    recorded->push_back({key, c.importance_crc});
    return Status::OK();
  };
  // Every object CURRENT names must be there: a missing one is a damaged
  // root, never a silent restart from an older state.
  // Mapped, not copied, from a local root (ReadMapped): a restore reads
  // hundreds of MB once.
  auto read = [&](const std::string& key, const char* what,
                  ObjectBytes* out) -> Status {
    auto bytes = root_->ReadMapped(key);
    if (bytes.status().IsNotFound()) {
      return Status::Corruption(root_->Uri(key) + ": " + what +
                                " named by CURRENT is missing");
    }
    if (!bytes.ok()) return bytes.status();
    *out = std::move(bytes).value();
    return Status::OK();
  };
  ObjectBytes data;
  std::string key = std::string(kDetectorStateDir) + manifest.base;
  TXFLOW_RETURN_IF_ERROR(read(key, "checkpoint", &data));
  std::string_view images;
  TXFLOW_ASSIGN_OR_RETURN(
      DetectorCheckpoint c,
      DecodeCheckpoint(data.view(), root_->Uri(key), &images));
  TXFLOW_RETURN_IF_ERROR(check(c, key));
  base_bytes_ = data.size();
  // Restored on all cores: one pass finds each merchant's bytes, then the
  // merchants (independent) are decoded and indexed in parallel.
  const std::string base_uri = root_->Uri(key);
  std::vector<std::string_view> parts;
  std::vector<size_t> weights;
  for (uint64_t i = 0; i < c.merchant_count; ++i) {
    const std::string_view start = images;
    if (!MerchantState::SkipImage(&images)) {
      // The full decoder says what is wrong.
      std::string_view at = start;
      auto m = MerchantState::Deserialize(&at);
      return (m.ok() ? Status::Corruption("merchant state: malformed")
                     : m.status())
          .WithContext(base_uri);
    }
    parts.push_back(start.substr(0, start.size() - images.size()));
    weights.push_back(parts.back().size());
  }
  if (!images.empty()) {
    return Status::Corruption(base_uri +
                              ": bytes after the last merchant image");
  }
  std::vector<std::unique_ptr<MerchantState>> states(parts.size());
  auto decode = [&](size_t i) -> Status {
    std::string_view in = parts[i];
    auto m = MerchantState::Deserialize(&in);
    if (!m.ok()) return m.status();
    if (!in.empty()) return Status::Corruption("merchant state: malformed");
    states[i] = std::move(m).value();
    return Status::OK();
  };
  TXFLOW_RETURN_IF_ERROR(
      ParallelFor(pool_.get(), weights, decode).WithContext(base_uri));
  merchants_.reserve(states.size());
  for (auto& m : states) {
    std::string id = m->id();
    auto [it, fresh] = merchants_.try_emplace(std::move(id));
    if (!fresh) {
      return Status::Corruption(base_uri + ": merchant '" +
                                Printable(it->first) +
                                "' appears twice in the checkpoint");
    }
    it->second.state = std::move(m);
  }
  data = ObjectBytes();  // the image's bytes: not kept beside the state
  last_checkpoint_key_ = key;
  std::string previous = manifest.base;
  // Each merchant's delta images in chain order, with the delta's URI.
  std::map<MerchantState*, std::vector<DeltaPart>> parts_of;
  std::deque<ObjectBytes> delta_data;  // kept until applied
  std::deque<std::string> delta_uris;
  for (const std::string& name : manifest.deltas) {
    key = std::string(kDetectorStateDir) + name;
    const std::string& uri = delta_uris.emplace_back(root_->Uri(key));
    ObjectBytes& bytes = delta_data.emplace_back();
    TXFLOW_RETURN_IF_ERROR(read(key, "delta", &bytes));
    TXFLOW_ASSIGN_OR_RETURN(DetectorDelta d,
                            DecodeDelta(bytes.view(), uri, &images));
    // A delta applies only to the state it was taken from: the object
    // before it in CURRENT.
    if (d.extends != previous) {
      return Status::Corruption(uri + ": extends " + Printable(d.extends) +
                                ", but CURRENT puts it after " + previous);
    }
    if (d.header.chunks != ParseStateName(name, "delta-") ||
        d.header.chunks < c.chunks) {
      return Status::Corruption(uri + ": its chunk count " +
                                std::to_string(d.header.chunks) +
                                " does not match its name or goes back");
    }
    TXFLOW_RETURN_IF_ERROR(check(d.header, key));
    std::string id, last;
    last_delta_images_.assign(images);
    for (uint64_t i = 0; i < d.header.merchant_count; ++i) {
      const std::string_view start = images;
      if (!MerchantState::SkipDelta(&images, &id)) {
        return Status::Corruption(uri + ": merchant delta " +
                                  std::to_string(i) + " is malformed");
      }
      // Sorted by id, each merchant once.
      if (i > 0 && id <= last) {
        return Status::Corruption(uri + ": merchant '" + Printable(id) +
                                  "' out of order in the delta");
      }
      parts_of[FindMerchant(id).state.get()].push_back(
          {start.substr(0, start.size() - images.size()), &uri,
           delta_uris.size() - 1});
      last = std::move(id);
    }
    if (!images.empty()) {
      return Status::Corruption(uri + ": bytes after the last merchant delta");
    }
    c = std::move(d.header);
    delta_bytes_ += bytes.size();
    last_delta_bytes_ = bytes.size();
    last_delta_extends_ = previous;
    last_delta_merchants_ = c.merchant_count;
    last_checkpoint_key_ = key;
    previous = name;
  }
  TXFLOW_RETURN_IF_ERROR(ApplyDeltaParts(pool_.get(), &parts_of));
  // The UPGRADE indexes too, on all cores, rather than on the first chunk.
  std::vector<MerchantState*> all;
  std::vector<size_t> sizes;
  for (auto& [id, entry] : merchants_) {
    all.push_back(entry.state.get());
    sizes.push_back(entry.state->customers());
  }
  TXFLOW_RETURN_IF_ERROR(ParallelFor(pool_.get(), sizes, [&](size_t i) {
    all[i]->PrepareIndexes(options_.thresholds);
    return Status::OK();
  }));
  c.merchant_count = merchants_.size();
  manifest_ = std::move(manifest);
  last_image_size_ = base_bytes_;
  uint64_t pairs = 0;
  for (const auto& [id, m] : merchants_) pairs += m.state->customers();
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
  char line[256];
  std::snprintf(line, sizeof(line),
                "y: restored %s+%zu deltas chunks=%" PRIu64
                " merchants=%zu pairs=%" PRIu64 " bytes=%" PRIu64
                " took=%.1f ms",
                manifest_.base.c_str(), manifest_.deltas.size(), c.chunks,
                merchants_.size(), pairs, base_bytes_ + delta_bytes_, ms);
  LogInfo(line);
  return c;
}

Status Detector::RemoveUnreferencedState() {
  // Two listings of our names, not one of state/detector/, which also holds
  // a stats file per snapshot interval.
  std::vector<ObjectInfo> objects;
  for (const char* prefix : {"checkpoint-", "delta-"}) {
    TXFLOW_ASSIGN_OR_RETURN(
        auto listed,
        root_->List({std::string(kDetectorStateDir) + prefix, "", 0}));
    objects.insert(objects.end(), listed.begin(), listed.end());
  }
  if (manifest_.base.empty()) {
    // No CURRENT. A full image written before the first CURRENT (a crash
    // between the two) is legitimate and kept; but a delta is written only
    // after CURRENT named its base, so one here means CURRENT was lost:
    // restarting from zero would silently drop the state and deleting the
    // objects would leave nothing to repair it from.
    for (const auto& o : objects) {
      const std::string_view name =
          std::string_view(o.key).substr(kDetectorStateDir.size());
      if (ParseStateName(name, "delta-").has_value()) {
        return Status::Corruption(
            root_->Uri(kDetectorCurrentKey) + " is missing, but " +
            root_->Uri(o.key) +
            " exists (a delta is written only after CURRENT names its "
            "base): restore CURRENT (docs/formats.md) or use a new root");
      }
    }
    return Status::OK();
  }
  for (const auto& o : objects) {
    const std::string_view name =
        std::string_view(o.key).substr(kDetectorStateDir.size());
    const bool ours = ParseStateName(name, "checkpoint-").has_value() ||
                      ParseStateName(name, "delta-").has_value();
    if (!ours || name == manifest_.base ||
        std::find(manifest_.deltas.begin(), manifest_.deltas.end(), name) !=
            manifest_.deltas.end()) {
      continue;
    }
    const Status s = root_->Delete(o.key);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::OK();
}

Status Detector::RemoveOrphanEvidence(
    const std::map<uint64_t, std::string>& files) {
  // An evidence file whose detection file is absent is from a write that a
  // crash (or a failure) cut between the two; the replay writes it again,
  // possibly under another <epoch>. Removed, so evidence never stands
  // without its detection.
  TXFLOW_ASSIGN_OR_RETURN(auto evidence,
                          root_->List({std::string(kEvidencePrefix), "", 0}));
  for (const auto& e : evidence) {
    const std::string det = DetectionKeyForEvidence(e.key);
    if (det.empty()) continue;  // not ours
    const auto seq = ParseDetectionFileSeq(det);
    const auto it = files.find(*seq);
    if (it != files.end() && it->second == det) continue;
    const Status s = root_->Delete(e.key);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::OK();
}

Result<PollReport> Detector::Poll(const std::function<bool()>& stop) {
  TXFLOW_RETURN_IF_ERROR(ResolveImportance());
  PollReport report;
  // Writes an earlier attempt queued but failed to finish come first.
  TXFLOW_RETURN_IF_ERROR(writer_->Sync());
  while (true) {
    if (report.chunks == options_.max_chunks_per_poll || (stop && stop())) {
      report.more = true;
      break;
    }
    TXFLOW_ASSIGN_OR_RETURN(const bool found, ReadNextChunk());
    if (!found) {
      // Nothing after the last chunk: no backlog when it finished.
      if (!stats_rows_.empty() && stats_rows_.back().backlog_chunks < 0)
        stats_rows_.back().backlog_chunks = 0;
      break;
    }
    // The snapshot due after `checkpoint_every` chunks is taken when the
    // next chunk starts (the same state): a drain that ends there then
    // writes one final snapshot, not two back to back.
    if (since_checkpoint_ >= options_.checkpoint_every) QueueCheckpoint();
    const uint64_t records_before = stats_.records, files_before = stats_.files;
    const auto& pp = stats_.per_pattern;
    const uint64_t det_before = pp[0] + pp[1] + pp[2];
    TXFLOW_RETURN_IF_ERROR(ProcessChunk(ChunkKey(next_record_), next_record_));
    ++report.chunks;
    report.records += stats_.records - records_before;
    report.detections += pp[0] + pp[1] + pp[2] - det_before;
    report.files += stats_.files - files_before;
    ++since_checkpoint_;
  }
  TXFLOW_RETURN_IF_ERROR(writer_->Sync());
  return report;
}

Result<bool> Detector::ReadNextChunk() {
  const std::string key = ChunkKey(next_record_);
  // A chunk without records was taken already; no chunk can follow it.
  const bool taken = key == last_chunk_key_;
  if (!taken) {
    const Status s = root_->ReadInto(key, &chunk_text_);
    if (!s.IsNotFound()) return s.ok() ? Result<bool>(true) : s;
  }
  TXFLOW_ASSIGN_OR_RETURN(const std::string passed, ChunkerPassed());
  if (passed.empty()) return false;  // it may still come
  if (taken) {
    return Status::Corruption(root_->Uri(key) + " holds no records, but " +
                              passed + "; no chunk can follow it");
  }
  // Read again: X wrote the chunk before the evidence that it moved on, so
  // if the chunk exists at all, this read sees it.
  const Status s = root_->ReadInto(key, &chunk_text_);
  if (!s.IsNotFound()) return s.ok() ? Result<bool>(true) : s;
  return Status::Corruption(
      root_->Uri(key) + ": the next chunk is missing, but " + passed +
      "; the landing zone has a gap (chunks deleted, or written by something "
      "other than txflow chunk)");
}

Result<std::string> Detector::ChunkerPassed() {
  auto text = root_->Read(kOffsetKey);
  if (text.ok()) {
    TXFLOW_ASSIGN_OR_RETURN(OffsetState x,
                            DecodeOffsetState(*text, root_->Uri(kOffsetKey)));
    if (x.next_record <= next_record_) return std::string();
    return std::string(kOffsetKey) + " says the chunker is at record " +
           std::to_string(x.next_record);
  }
  if (!text.status().IsNotFound()) return text.status();
  // No offset.csv (a landing zone filled by other means): a later chunk.
  TXFLOW_ASSIGN_OR_RETURN(
      auto later, root_->List({std::string(kLandingPrefix),
                               ChunkKey(next_record_), kListForLaterChunk}));
  for (const auto& info : later) {
    if (ParseChunkKey(info.key)) return info.key + " exists";
  }
  return std::string();
}

Status Detector::ProcessChunk(const std::string& key, uint64_t start) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string uri = root_->Uri(key);
  TXFLOW_RETURN_IF_ERROR(DecodeChunk(key, start, uri));
  std::vector<Touched> touched;
  // Marks the merchants this attempt touches; a retry of the same chunk
  // after a failure is a new attempt.
  const uint64_t attempt = ++attempts_;
  for (const DecodedRow& d : *decoded_.rows) {
    MerchantEntry& entry = FindMerchant(d.merchant);
    if (entry.last_attempt != attempt) {  // first row of this merchant here
      entry.last_attempt = attempt;
      entry.touched = static_cast<uint32_t>(touched.size());
      touched.push_back({entry.state.get(), 0, 0});
    }
    ++touched[entry.touched].rows;
    targets_.push_back({entry.state.get(),
                        MerchantState::HashCustomer(d.customer),
                        entry.touched});
  }
  const std::string& quarantine = *decoded_.quarantine;
  const uint64_t bad_rows = decoded_.bad_rows;
  const uint64_t records = decoded_.records;
  // Everything that can fail comes before the state changes: a failed
  // attempt leaves the detector as it was, so a retry of the chunk cannot
  // apply its rows twice.
  if (!quarantine.empty()) {
    auto w = root_->Write(QuarantineKey(start), quarantine,
                          {WriteMode::kCreateOnly, ""});
    if (!w.ok() && w.status().code() != StatusCode::kAlreadyExists) {
      targets_.clear();
      return w.status();
    }
  }
  ApplyChunkRows(&touched);
  // Exact sums past int64 (hostile amounts or weights, repeated): stop with
  // the one line naming them. Nothing of this chunk reaches storage.
  for (const Touched& t : touched) {
    const MerchantState* m = t.merchant;
    if (m->overflowed_customer()) {
      return Status::InvalidArgument(
          uri + ": the amount or weight sum of customer '" +
          Printable(*m->overflowed_customer()) + "' at merchant '" +
          Printable(m->id()) + "' leaves the exact 64-bit range");
    }
  }
  stats_.bad_rows += bad_rows;

  std::vector<Detection> found;
  EvaluateTouched(touched, &found);
  for (Detection& d : found) d.evidence.chunk = key;
  const size_t queued = Queue(&found);
  last_chunk_key_ = key;
  next_record_ = start + records;
  ++stats_.chunks;
  stats_.records += records;
  // The chunk is done in memory; its files are queued. If the writer has
  // stopped at a failure, say so now (the next Poll retries the writes
  // before taking another chunk) rather than computing ahead of it.
  WriteFiles(files_.Add(queued));
  const Status files = writer_->error();
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
  if (chunk_micros_.size() < 10'000'000) chunk_micros_.push_back(micros);
  stats_rows_.push_back(
      {key, records, bad_rows, found.size(), micros, clock_->NowMs(), -1});
  char line[256];
  std::snprintf(line, sizeof(line),
                "y: %s records=%" PRIu64
                " new_detections=%zu pending=%zu files=%" PRIu64 " took=%.2fms",
                key.c_str(), records, found.size(), pending_.size(),
                stats_.files, static_cast<double>(micros) / 1000.0);
  LogInfo(line);
  return files;
}

Status Detector::DecodeChunk(const std::string& key, uint64_t start,
                             const std::string& uri) {
  const bool need_category = importance_ != nullptr;
  // Parts of at least this many bytes: below it, handing parts to threads
  // costs more than it saves.
  constexpr size_t kMinPartBytes = 16 << 10;
  const size_t parts =
      pool_
          ? std::min<size_t>(pool_->size(), chunk_text_.size() / kMinPartBytes)
          : 1;
  if (parts <= 1) {
    TXFLOW_RETURN_IF_ERROR(
        decoder_.Decode(chunk_text_, key, start, need_category, uri));
    decoded_ = {&decoder_.rows(), &decoder_.quarantine(), decoder_.bad_rows(),
                decoder_.records()};
    return Status::OK();
  }
  TXFLOW_ASSIGN_OR_RETURN(
      const ChunkDecoder::SplitPlan plan,
      ChunkDecoder::Split(chunk_text_, start, need_category, parts, uri));
  part_decoders_.resize(plan.parts.size());
  pool_->Run(plan.parts.size(), [&](size_t i) {
    part_decoders_[i].DecodePart(chunk_text_, key, plan.columns, plan.parts[i],
                                 need_category);
  });
  merged_rows_.clear();
  merged_quarantine_.clear();
  decoded_ = {&merged_rows_, &merged_quarantine_, 0, 0};
  for (size_t i = 0; i < plan.parts.size(); ++i) {
    const ChunkDecoder& d = part_decoders_[i];
    merged_rows_.insert(merged_rows_.end(), d.rows().begin(), d.rows().end());
    if (!d.quarantine().empty() && merged_quarantine_.empty()) {
      merged_quarantine_ = ChunkDecoder::kQuarantineHeader;
    }
    merged_quarantine_ += d.quarantine();
    decoded_.bad_rows += d.bad_rows();
    decoded_.records += d.records();
  }
  return Status::OK();
}

Detector::MerchantEntry& Detector::FindMerchant(std::string_view id) {
  auto it = merchants_.find(id);
  if (it == merchants_.end())
    it = merchants_.emplace(id, MerchantEntry{}).first;
  MerchantEntry& entry = it->second;
  if (!entry.state) entry.state = std::make_unique<MerchantState>(it->first);
  return entry;
}

void Detector::ApplyChunkRows(std::vector<Touched>* touched) {
  if (!pool_ || touched->size() < 2) {
    ApplyRows(targets_.size(), [](size_t i) { return i; });
    targets_.clear();
    return;
  }
  AssignBins(touched);
  const size_t bins = static_cast<size_t>(pool_->size());
  bin_rows_.resize(bins);
  for (auto& rows : bin_rows_) rows.clear();
  for (size_t i = 0; i < targets_.size(); ++i) {
    bin_rows_[(*touched)[targets_[i].touched].bin].push_back(
        static_cast<uint32_t>(i));
  }
  // A merchant's rows are all in one bin, in chunk order, so each state sees
  // exactly the sequence one thread would apply.
  pool_->Run(bins, [this](size_t b) {
    const std::vector<uint32_t>& rows = bin_rows_[b];
    ApplyRows(rows.size(), [&rows](size_t k) { return rows[k]; });
  });
  targets_.clear();
}

void Detector::AssignBins(std::vector<Touched>* touched) const {
  const size_t bins = static_cast<size_t>(pool_->size());
  std::vector<uint32_t> order(touched->size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  // Ties by position, so the assignment is a function of the chunk alone
  // (results never depend on it, but a reproducible split is easier to
  // reason about).
  std::sort(order.begin(), order.end(), [touched](uint32_t a, uint32_t b) {
    const uint32_t ra = (*touched)[a].rows, rb = (*touched)[b].rows;
    return ra != rb ? ra > rb : a < b;
  });
  std::vector<uint64_t> load(bins, 0);
  for (const uint32_t i : order) {
    const size_t b = static_cast<size_t>(
        std::min_element(load.begin(), load.end()) - load.begin());
    (*touched)[i].bin = static_cast<uint32_t>(b);
    // Evaluate costs something per merchant too, whatever its rows.
    load[b] += (*touched)[i].rows + 1;
  }
}

void Detector::EvaluateTouched(const std::vector<Touched>& touched,
                               std::vector<Detection>* found) {
  if (!pool_ || touched.size() < 2) {
    for (const Touched& t : touched) {
      t.merchant->Evaluate(options_.thresholds, found);
    }
  } else {
    const size_t bins = static_cast<size_t>(pool_->size());
    bin_found_.resize(bins);
    pool_->Run(bins, [this, &touched](size_t b) {
      std::vector<Detection>& out = bin_found_[b];
      out.clear();
      for (const Touched& t : touched) {
        if (t.bin == b) t.merchant->Evaluate(options_.thresholds, &out);
      }
    });
    for (std::vector<Detection>& out : bin_found_) {
      std::move(out.begin(), out.end(), std::back_inserter(*found));
    }
  }
  // The spec's order (pattern, merchant, customer); no two detections share
  // that key, so the order the merchants were evaluated in never shows.
  std::sort(found->begin(), found->end());
}

template <typename RowAt>
void Detector::ApplyRows(size_t n, RowAt row) {
  // kSlotAhead rows ahead the customer's slot is requested; kPairAhead rows
  // ahead that slot is read to start loading the customer's record (and, for
  // a new customer, its importance slot). By the time a row is applied both
  // are usually in cache. (Hints only: a rehash in between is harmless.)
  constexpr size_t kSlotAhead = 16, kPairAhead = 6;
  const std::vector<DecodedRow>& rows = *decoded_.rows;
  for (size_t k = 0; k < n; ++k) {
    if (k + kSlotAhead < n) {
      const Target& t = targets_[row(k + kSlotAhead)];
      t.merchant->PrefetchSlot(t.hash);
    }
    if (k + kPairAhead < n) {
      const size_t ahead = row(k + kPairAhead);
      const Target& t = targets_[ahead];
      // A new customer's weight comes from the importance table: start
      // loading its slot too.
      if (t.merchant->PrefetchPair(t.hash) && importance_) {
        importance_->Prefetch(
            t.merchant->ImportanceKeyHash(t.hash, rows[ahead].category));
      }
    }
    const size_t i = row(k);
    const Target& t = targets_[i];
    const DecodedRow& r = rows[i];
    if (importance_) {
      t.merchant->ApplyWeighted(r.customer, t.hash, r.gender, r.paise,
                                r.category, *importance_);
    } else {
      t.merchant->ApplyUnweighted(r.customer, t.hash, r.gender, r.paise);
    }
  }
}

size_t Detector::Queue(std::vector<Detection>* found) {
  // A wall clock that jumps backwards must not make detection times (and
  // the file names built from them) go backwards: they stay monotonic.
  const int64_t now = std::max(clock_->NowMs(), last_detected_ms_);
  if (!found->empty()) last_detected_ms_ = now;
  size_t queued = 0;
  for (Detection& d : *found) {
    ++stats_.per_pattern[static_cast<size_t>(d.pattern) - 1];
    // Replayed detections that are already in a file are skipped.
    if (detections_++ < written_) continue;
    d.detected_at_ms = now;
    pending_.push_back(std::move(d));
    ++queued;
  }
  stats_.pending = pending_.size();
  return queued;
}

void Detector::WriteFiles(const std::vector<DetectionFileSpan>& files) {
  size_t done = 0;  // pending_'s front that the files hold
  for (const DetectionFileSpan& f : files) {
    const auto first = pending_.begin() + static_cast<ptrdiff_t>(f.first);
    std::vector<Detection> rows(first, first + static_cast<ptrdiff_t>(f.count));
    std::string key = DetectionFileKeyFor(f.seq, rows);
    writer_->Submit([root = root_, key = std::move(key), rows = std::move(rows),
                     ystart = ystart_ms_, tz = options_.tz_offset_minutes,
                     t = options_.thresholds] {
      return WriteDetectionAndEvidence(root, key,
                                       EncodeDetectionFile(rows, ystart, tz),
                                       EncodeEvidenceFile(rows, t));
    });
    // Counted as written now: every later write, and so every snapshot
    // that counts these, lands only after this file is durable.
    written_ += f.count;
    done = f.first + f.count;
  }
  pending_.erase(pending_.begin(),
                 pending_.begin() + static_cast<ptrdiff_t>(done));
  stats_.files = files_.files();
  stats_.pending = pending_.size();
}

Status Detector::FlushPending() {
  TXFLOW_RETURN_IF_ERROR(ResolveImportance());
  WriteFiles(files_.Flush());
  return writer_->Sync();
}

Status Detector::Checkpoint() {
  TXFLOW_RETURN_IF_ERROR(ResolveImportance());
  QueueCheckpoint();
  return writer_->Sync();
}

void Detector::QueueStats() {
  if (stats_rows_.empty()) return;
  // Keyed by the interval's first chunk: a replay of the same interval
  // (after a crash) overwrites it with the same rows, other timings.
  const auto first = ParseChunkKey(stats_rows_.front().chunk);
  writer_->Submit([root = root_, key = ChunkStatsKey(first.value_or(0)),
                   text = EncodeChunkStats(stats_rows_)] {
    return root->Write(key, text, {}).status();
  });
  stats_rows_.clear();
}

DetectorCheckpoint Detector::CheckpointHeader() const {
  DetectorCheckpoint c;
  c.chunks = stats_.chunks;
  c.last_chunk_key = last_chunk_key_;
  c.next_record = next_record_;
  c.records = stats_.records;
  c.bad_rows = stats_.bad_rows;
  c.detections = detections_;
  c.written = written_;
  c.files = stats_.files;
  c.per_pattern = stats_.per_pattern;
  c.thresholds_crc = ThresholdsFingerprint(options_.thresholds);
  c.importance_crc = importance_fingerprint_;
  c.pending = pending_;  // empty while a replay is still behind the files
  return c;
}

void Detector::QueueCheckpoint() {
  const auto t0 = std::chrono::steady_clock::now();
  // Before the snapshot: a snapshot stored means its chunks' stats are too.
  QueueStats();
  DetectorCheckpoint c = CheckpointHeader();
  const uint64_t chunks = stats_.chunks;
  std::vector<MerchantState*> ordered;
  for (auto& [id, m] : merchants_) ordered.push_back(m.state.get());
  std::sort(ordered.begin(), ordered.end(),
            [](const MerchantState* a, const MerchantState* b) {
              return a->id() < b->id();
            });
  std::string image, key;
  uint64_t merchants = 0, pairs = 0;
  bool full = manifest_.base.empty() || options_.max_deltas == 0;
  if (!full) {
    // A snapshot with no chunk since the last delta has that delta's name:
    // it replaces it, with the same base and merchant images (nothing
    // changed) and the newer counters. A crash between it and CURRENT
    // leaves either version under the name; both are that state.
    const bool same =
        !manifest_.deltas.empty() &&
        ParseStateName(manifest_.deltas.back(), "delta-") == chunks;
    bool dirty = false;
    for (const MerchantState* m : ordered) dirty = dirty || m->dirty();
    std::string extends =
        manifest_.deltas.empty() ? manifest_.base : manifest_.deltas.back();
    std::string images;
    if (same && !dirty) {
      images = last_delta_images_;
      merchants = last_delta_merchants_;
      pairs = last_delta_pairs_;
      extends = last_delta_extends_;
    } else {
      // Merchants are independent: serialized on all threads (each into its
      // own buffer), concatenated in id order.
      std::vector<const MerchantState*> changed;
      std::vector<size_t> weights;
      for (const MerchantState* m : ordered) {
        if (!m->dirty()) continue;
        changed.push_back(m);
        weights.push_back(m->dirty_pairs());
      }
      std::vector<std::string> parts(changed.size());
      ParallelFor(pool_.get(), weights, [&](size_t i) {
        changed[i]->SerializeDelta(&parts[i]);
        return Status::OK();
      }).IgnoreError();  // serializing cannot fail
      for (const std::string& part : parts) images += part;
      merchants = changed.size();
    }
    full = same && dirty;  // cannot happen: a chunk count without chunk
    c.merchant_count = merchants;
    BeginDelta(c, extends, &image);
    image += images;
    FinishCheckpoint(&image);
    // Compaction: once the deltas outweigh the base, a restore would read
    // more than twice the state; a full image starts a new chain.
    const uint64_t deltas = manifest_.deltas.size() + (same ? 0 : 1);
    const uint64_t bytes =
        delta_bytes_ - (same ? last_delta_bytes_ : 0) + image.size();
    if (deltas > options_.max_deltas || bytes > base_bytes_) full = true;
    if (!full) {
      key = DeltaKey(chunks);
      if (same) {
        manifest_.deltas.back() = key.substr(kDetectorStateDir.size());
      } else {
        manifest_.deltas.push_back(key.substr(kDetectorStateDir.size()));
      }
      delta_bytes_ = bytes;
      last_delta_bytes_ = image.size();
      last_delta_images_ = std::move(images);
      last_delta_extends_ = std::move(extends);
      last_delta_merchants_ = merchants;
      // The pair count a delta records is its entries' (changed + new).
      for (const MerchantState* m : ordered) {
        if (m->dirty()) pairs += m->dirty_pairs();
      }
      last_delta_pairs_ = pairs;
    }
  }
  std::vector<std::string> superseded;
  if (full) {
    c.merchant_count = merchants = ordered.size();
    // Built in place in one buffer sized from the last image: the state is
    // not copied, and its pages are faulted in once.
    image.clear();
    image.reserve(last_image_size_ + last_image_size_ / 8 + 4096);
    BeginCheckpoint(c, &image);
    for (const MerchantState* m : ordered) {
      m->Serialize(&image);
      pairs += m->customers();
    }
    FinishCheckpoint(&image);
    last_image_size_ = image.size();
    key = CheckpointKey(chunks);
    const std::string name = key.substr(kDetectorStateDir.size());
    // Deleted only once the new CURRENT is durable.
    if (!manifest_.base.empty() && manifest_.base != name)
      superseded.push_back(std::string(kDetectorStateDir) + manifest_.base);
    for (const std::string& d : manifest_.deltas)
      superseded.push_back(std::string(kDetectorStateDir) + d);
    manifest_.base = name;
    manifest_.deltas.clear();
    base_bytes_ = image.size();
    delta_bytes_ = last_delta_bytes_ = 0;
    last_delta_images_.clear();
    last_delta_extends_.clear();
    last_delta_merchants_ = last_delta_pairs_ = 0;
  }
  for (MerchantState* m : ordered) m->MarkCheckpointed();
  // built=: the time this took on the detector's thread (the chunk after a
  // checkpoint starts that much later; chunk took= times exclude it).
  const double built_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - t0)
                              .count();
  char line[256];
  std::snprintf(line, sizeof(line),
                "y: checkpoint %s kind=%s bytes=%zu merchants=%" PRIu64
                " pairs=%" PRIu64 " built=%.1f ms",
                key.c_str() + kDetectorStateDir.size(), full ? "full" : "delta",
                image.size(), merchants, pairs, built_ms);
  // Logged once durable; not for the snapshot of a root without a chunk
  // yet (a run that stops before its first chunk prints only its error).
  if (chunks == 0) line[0] = '\0';
  writer_->Submit([root = root_, key, image = std::move(image),
                   current = EncodeManifest(manifest_),
                   superseded = std::move(superseded),
                   line = std::string(line)] {
    TXFLOW_RETURN_IF_ERROR(root->Write(key, image, {}).status());
    TXFLOW_RETURN_IF_ERROR(
        root->Write(kDetectorCurrentKey, current, {}).status());
    if (!line.empty()) LogInfo(line);
    for (const std::string& old : superseded) {
      if (old != key) root->Delete(old).IgnoreError();
    }
    return Status::OK();
  });
  last_checkpoint_key_ = std::move(key);
  since_checkpoint_ = 0;
}

}  // namespace txflow
