#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <mutex>

#include "chunker/offset_state.h"
#include "common/log.h"

namespace txflow {
namespace {

using SteadyClock = std::chrono::steady_clock;

// "1,234,567": counts of millions are read at a glance with separators.
std::string Grouped(uint64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM rec/s", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk rec/s", per_second / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f rec/s", per_second);
  }
  return buf;
}

std::string Duration(double seconds) {
  const auto s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
                  s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
  }
  return buf;
}

// Records in the whole source, estimated from X's position: the records
// before it plus the bytes after it at the average record size so far.
// nullopt until X has seen the source and cut a record.
std::optional<double> EstimatedTotalRecords(const OffsetState& x) {
  if (x.next_record == 0 || x.source_size_seen < x.byte_offset ||
      x.byte_offset <= x.header_bytes) {
    return std::nullopt;
  }
  const double avg = static_cast<double>(x.byte_offset - x.header_bytes) /
                     static_cast<double>(x.next_record);
  return static_cast<double>(x.next_record) +
         static_cast<double>(x.source_size_seen - x.byte_offset) / avg;
}

// The one line of the process, shared by its reporters.
struct Shared {
  std::mutex mu;
  ProgressSnapshot snap;
  int reporters = 0;
  bool chunker_in_process = false;
  std::optional<uint64_t> x_first, y_first;  // records at the first report
  SteadyClock::time_point x_start, y_start, last_draw, last_offset_read;
};

Shared& TheLine() {
  static Shared* shared = new Shared;  // never destroyed: threads may report
  return *shared;
}

bool DueForRedraw(Shared& s, SteadyClock::time_point now) {
  if (now - s.last_draw <
      std::chrono::milliseconds(1000) / kProgressRedrawsPerSecond) {
    return false;
  }
  s.last_draw = now;
  return true;
}

// nullopt at the first report: no interval to measure yet.
std::optional<double> PerSecond(uint64_t done, uint64_t first,
                                SteadyClock::time_point start,
                                SteadyClock::time_point now) {
  const double secs = std::chrono::duration<double>(now - start).count();
  if (secs <= 0 || done == first) return std::nullopt;
  return static_cast<double>(done - first) / secs;
}

// The rate shown is the detector's when one runs here (the pipeline's end),
// else the chunker's.
void Redraw(Shared& s, SteadyClock::time_point now) {
  ProgressSnapshot& snap = s.snap;
  if (s.y_first) {
    snap.records_per_second =
        PerSecond(snap.y_records, *s.y_first, s.y_start, now);
  } else if (s.x_first && snap.x) {
    snap.records_per_second =
        PerSecond(snap.x->next_record, *s.x_first, s.x_start, now);
  }
  SetStatusLine(FormatProgress(snap));
}

}  // namespace

std::string FormatProgress(const ProgressSnapshot& s) {
  std::string line;
  if (s.x) {
    line += "x " + Grouped(s.x->next_record) + " rec in " +
            Grouped(s.x->chunks_written) + " chunks";
  }
  if (s.y) {
    if (!line.empty()) line += " | ";
    line += "y " + Grouped(s.y_records) + " rec, " + Grouped(s.y_chunks) +
            " chunks, " + Grouped(s.y_detections) + " detections, " +
            Grouped(s.y_files) + " files";
  }
  if (s.records_per_second) line += " | " + Rate(*s.records_per_second);
  const std::optional<double> total =
      s.drain && s.x ? EstimatedTotalRecords(*s.x) : std::nullopt;
  if (total && *total > 0) {
    const double done =
        static_cast<double>(s.y ? s.y_records : s.x->next_record);
    char pct[16];
    std::snprintf(pct, sizeof(pct), " | %.0f%%",
                  std::min(100.0, 100.0 * done / *total));
    line += pct;
    if (s.records_per_second && *s.records_per_second > 0 && done < *total) {
      line += " ETA " + Duration((*total - done) / *s.records_per_second);
    }
  }
  return line;
}

ProgressReporter::ProgressReporter(char mechanism, bool drain)
    // JSON logs are for machines, even on a terminal: a \r-redrawn line
    // would put bytes that are not JSON between the objects.
    : enabled_(::isatty(STDERR_FILENO) != 0 &&
               GetLogFormat() != LogFormat::kJson),
      mechanism_(mechanism),
      drain_(drain) {
  if (!enabled_) return;
  Shared& s = TheLine();
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.reporters;
  s.snap.drain = s.snap.drain || drain_;
  if (mechanism_ == 'x') s.chunker_in_process = true;
}

ProgressReporter::~ProgressReporter() {
  if (!enabled_) return;
  Shared& s = TheLine();
  std::lock_guard<std::mutex> lock(s.mu);
  // The last reporter erases the line; an earlier one (X ending before Y in
  // `txflow run`) leaves its final numbers on it.
  if (--s.reporters == 0) SetStatusLine("");
}

void ProgressReporter::Update(const Chunker& chunker) {
  if (!enabled_) return;
  Shared& s = TheLine();
  const auto now = SteadyClock::now();
  std::lock_guard<std::mutex> lock(s.mu);
  s.snap.x = chunker.state();
  if (!s.x_first) {
    s.x_first = chunker.state().next_record;
    s.x_start = now;
  }
  if (DueForRedraw(s, now)) Redraw(s, now);
}

void ProgressReporter::Update(const Detector& detector, FileSystem* root) {
  if (!enabled_) return;
  Shared& s = TheLine();
  const auto now = SteadyClock::now();
  std::lock_guard<std::mutex> lock(s.mu);
  const DetectorStats& st = detector.stats();
  s.snap.y = true;
  s.snap.y_records = st.records;
  s.snap.y_chunks = st.chunks;
  s.snap.y_detections =
      st.per_pattern[0] + st.per_pattern[1] + st.per_pattern[2];
  s.snap.y_files = st.files;
  if (!s.y_first) {
    s.y_first = st.records;
    s.y_start = now;
  }
  if (!DueForRedraw(s, now)) return;
  if (!s.chunker_in_process &&
      now - s.last_offset_read >= std::chrono::seconds(1)) {
    // Best effort: without X's position the line shows Y's numbers alone.
    // At most one read a second: on S3 each is a GET.
    s.last_offset_read = now;
    if (auto text = root->Read(kOffsetKey); text.ok()) {
      if (auto x = DecodeOffsetState(*text, ""); x.ok()) s.snap.x = *x;
    }
  }
  Redraw(s, now);
}

}  // namespace txflow
