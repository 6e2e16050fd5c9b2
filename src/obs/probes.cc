#include "obs/probes.h"

#include <atomic>

#include "chunker/offset_state.h"
#include "common/clock.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"
#include "obs/telemetry.h"

namespace txflow::obs {
namespace {

std::atomic<bool> g_deep{false};

int64_t NowMs() { return SystemClock::Get()->NowMs(); }

Telemetry& T() { return Telemetry::Get(); }

}  // namespace

void SetDeepProbes(bool on) { g_deep = on; }

void BacklogTracker::Saw(uint64_t written, int64_t now_ms) {
  if (sightings_.empty() || sightings_.back().first < written) {
    sightings_.emplace_back(written, now_ms);
  }
}

uint64_t BacklogTracker::Done(uint64_t done, int64_t now_ms,
                              double* lag_seconds) {
  // The oldest chunk not processed is number `done`: it was first seen at
  // the first sighting that showed more than `done` chunks written.
  while (!sightings_.empty() && sightings_.front().first <= done) {
    sightings_.pop_front();
  }
  if (sightings_.empty()) {
    *lag_seconds = 0;
    return 0;
  }
  *lag_seconds = (now_ms - sightings_.front().second) / 1000.0;
  return sightings_.back().first - done;
}

void ChunkerProbe::Started() { T().state(Mechanism::kX).Started(NowMs()); }

void ChunkerProbe::AfterTick(const Chunker& c, const TickReport& r) {
  MechanismState& st = T().state(Mechanism::kX);
  T().records(Mechanism::kX).Add(r.records);
  T().chunks(Mechanism::kX).Add(r.chunks);
  if (r.chunks > 0) st.Progress(NowMs());
  st.Healthy();
  // The source size comes from the tick's own Stat (Telemetry::Instrument).
  const uint64_t size = T().watched_size();
  const uint64_t left =
      size > c.state().byte_offset ? size - c.state().byte_offset : 0;
  T().source_backlog_bytes().Set(static_cast<double>(left));
  st.SetBacklog(static_cast<double>(left));
}

void ChunkerProbe::Failed(const Status& s) {
  T().state(Mechanism::kX).Failing(s.ToString());
}

void DetectorProbe::Started(const Detector& d, FileSystem* root) {
  seen_ = d.stats();
  micros_seen_ = d.chunk_micros().size();
  checkpoint_key_ = d.last_checkpoint_key();
  if (!checkpoint_key_.empty()) T().checkpoint_ms() = NowMs();
  T().pending_detections().Set(static_cast<double>(seen_.pending));
  T().state(Mechanism::kY).Started(NowMs());
  // Quarantine files already there were counted by earlier processes.
  quarantine_after_ = "quarantine/";
  if (g_deep) {
    if (auto keys = root->List({"quarantine/", "", 0});
        keys.ok() && !keys->empty()) {
      quarantine_after_ = keys->back().key;
    }
  }
}

void DetectorProbe::AfterPoll(const Detector& d, FileSystem* root) {
  const DetectorStats& s = d.stats();
  const int64_t now = NowMs();
  T().records(Mechanism::kY).Add(s.records - seen_.records);
  T().chunks(Mechanism::kY).Add(s.chunks - seen_.chunks);
  for (int p = 0; p < 3; ++p) {
    T().detections(p).Add(s.per_pattern[p] - seen_.per_pattern[p]);
  }
  T().detection_files().Add(s.files - seen_.files);
  T().pending_detections().Set(static_cast<double>(s.pending));
  const auto& micros = d.chunk_micros();
  for (; micros_seen_ < micros.size(); ++micros_seen_) {
    T().chunk_process_seconds().Observe(micros[micros_seen_] / 1e6);
  }
  if (d.last_checkpoint_key() != checkpoint_key_) {
    checkpoint_key_ = d.last_checkpoint_key();
    T().checkpoint_ms() = now;
  }
  MechanismState& st = T().state(Mechanism::kY);
  if (s.chunks != seen_.chunks || s.files != seen_.files) st.Progress(now);
  st.Healthy();
  const bool new_bad_rows = s.bad_rows != seen_.bad_rows;
  seen_ = s;
  if (!g_deep) return;
  if (new_bad_rows) CountBadRows(root);
  UpdateBacklog(d, root, now);
}

void DetectorProbe::Failed(const Status& s) {
  T().state(Mechanism::kY).Failing(s.ToString());
}

void DetectorProbe::UpdateBacklog(const Detector& d, FileSystem* root,
                                  int64_t now) {
  // offset.csv at most once a second: on S3 each look is a GET.
  if (now - backlog_checked_ms_ >= 1000) {
    backlog_checked_ms_ = now;
    auto text = root->Read(kOffsetKey);
    if (text.ok()) {
      if (auto state = DecodeOffsetState(*text, ""); state.ok()) {
        backlog_.Saw(state->chunks_written, now);
      }
    }
  }
  double lag = 0;
  const auto backlog =
      static_cast<double>(backlog_.Done(d.stats().chunks, now, &lag));
  T().backlog_chunks().Set(backlog);
  T().state(Mechanism::kY).SetBacklog(backlog);
  T().lag_seconds().Set(lag);
}

void DetectorProbe::CountBadRows(FileSystem* root) {
  auto keys = root->List({"quarantine/", quarantine_after_, 0});
  if (!keys.ok()) return;  // counted next time bad rows appear
  std::vector<std::string> fields;
  for (const ObjectInfo& info : *keys) {
    auto text = root->Read(info.key);
    if (!text.ok()) return;
    RecordReader reader(*text);
    std::string_view record;
    bool header = true;
    while (reader.Next(&record)) {
      if (header) {
        header = false;
        continue;
      }
      // chunk,record,byte_offset,reason,raw
      if (!SplitFields(record, &fields) && fields.size() >= 4) {
        T().bad_rows(BadRowReasonLabel(fields[3])).Add();
      }
    }
    quarantine_after_ = info.key;
  }
}

}  // namespace txflow::obs
