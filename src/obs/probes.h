// What the command loops report after each step, turned into metrics and
// mechanism state (obs/telemetry.h). They read the Chunker's and Detector's
// own counters and never change their logic. One probe per loop; not
// thread-safe (the loop's thread).
#ifndef TXFLOW_OBS_PROBES_H_
#define TXFLOW_OBS_PROBES_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "chunker/chunker.h"
#include "detector/detector.h"
#include "txflow/status.h"

namespace txflow::obs {

// Turns deeper work on (reading offset.csv for Y's backlog once a second,
// reading new quarantine files for bad rows by reason): set once a server
// or an alert sink is configured, so a plain run costs no extra requests.
void SetDeepProbes(bool on);

// Y's backlog and lag from sightings of X's progress: Saw(written, t) says
// that at time t, X had written `written` chunks; Done(done, now) gives the
// chunks written and not processed, and the age of the oldest of them: the
// time of the first sighting that showed it (the FileSystem listing carries
// no modification time, so "first seen" is the best bound Y has).
class BacklogTracker {
 public:
  void Saw(uint64_t written, int64_t now_ms);
  // Backlog in chunks; *lag_seconds receives the age (0 when none).
  uint64_t Done(uint64_t done, int64_t now_ms, double* lag_seconds);

 private:
  std::deque<std::pair<uint64_t, int64_t>> sightings_;
};

class ChunkerProbe {
 public:
  void Started();
  void AfterTick(const Chunker& c, const TickReport& r);
  void Failed(const Status& s);
};

class DetectorProbe {
 public:
  // After Detector::Open(): counts only what happens from here on.
  void Started(const Detector& d, FileSystem* root);
  void AfterPoll(const Detector& d, FileSystem* root);
  void Failed(const Status& s);

 private:
  void UpdateBacklog(const Detector& d, FileSystem* root, int64_t now);
  void CountBadRows(FileSystem* root);

  DetectorStats seen_;
  size_t micros_seen_ = 0;
  std::string checkpoint_key_;
  int64_t backlog_checked_ms_ = 0;
  BacklogTracker backlog_;
  std::string quarantine_after_;  // quarantine keys up to this are counted
};

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_PROBES_H_
