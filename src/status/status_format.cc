#include "status/status_format.h"

#include <cinttypes>
#include <cstdio>

#include "common/clock.h"

namespace txflow {
namespace {

// One JSON object built member by member; commas are its business.
class JsonObject {
 public:
  JsonObject& Str(std::string_view key, std::string_view v) {
    Key(key);
    Quote(v);
    return *this;
  }
  // An empty string is written as null: "none" for optional names.
  JsonObject& StrOrNull(std::string_view key, std::string_view v) {
    if (v.empty()) return Raw(key, "null");
    return Str(key, v);
  }
  JsonObject& Num(std::string_view key, int64_t v) {
    return Raw(key, std::to_string(v));
  }
  JsonObject& Unsigned(std::string_view key, uint64_t v) {
    return Raw(key, std::to_string(v));
  }
  JsonObject& Bool(std::string_view key, bool v) {
    return Raw(key, v ? "true" : "false");
  }
  // `json` must be a complete JSON value.
  JsonObject& Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_ += json;
    return *this;
  }
  JsonObject& StrArray(std::string_view key,
                       const std::vector<std::string>& v) {
    Key(key);
    out_ += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out_ += ',';
      Quote(v[i]);
    }
    out_ += ']';
    return *this;
  }
  std::string Done() { return out_ + "}"; }

 private:
  void Key(std::string_view key) {
    out_ += out_.size() > 1 ? "," : "";
    Quote(key);
    out_ += ':';
  }
  void Quote(std::string_view v) {
    out_ += '"';
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out_ += buf;
      } else {
        out_ += static_cast<char>(c);
      }
    }
    out_ += '"';
  }
  std::string out_ = "{";
};

std::string LockJson(const LockStatus& l) {
  if (!l.holder) return "null";
  return JsonObject()
      .Str("host", l.holder->host)
      .Num("pid", l.holder->pid)
      .Num("acquired_at_ms", l.holder->acquired_ms)
      .Num("expires_at_ms", l.holder->expires_ms)
      .Bool("expired", l.expired)
      .Done();
}

std::string RequestsJson(const StatusRequests& r) {
  return JsonObject()
      .Unsigned("budget", r.budget)
      .Unsigned("total", r.Total())
      .Unsigned("get", r.get)
      .Unsigned("head", r.head)
      .Unsigned("list", r.list)
      .Unsigned("put", r.put)
      .Unsigned("post", r.post)
      .Unsigned("delete", r.del)
      .Unsigned("retries", r.retries)
      .Done();
}

std::string SourceJson(const RootStatus& s) {
  JsonObject o;
  o.StrOrNull("uri", s.source_uri);
  if (s.source_size) {
    o.Unsigned("size_bytes", *s.source_size);
  } else {
    o.Raw("size_bytes", "null");
  }
  o.StrOrNull("error", s.source_error);
  return o.Done();
}

std::string ChunkerJson(const RootStatus& s) {
  JsonObject o;
  const OffsetState off = s.offset.value_or(OffsetState{});
  o.Bool("started", s.offset.has_value())
      .Unsigned("next_record", off.next_record)
      .Unsigned("byte_offset", off.byte_offset)
      .Unsigned("chunks_written", off.chunks_written)
      .Num("updated_at_ms", off.updated_at_ms);
  if (s.offset && s.source_size) {
    const uint64_t behind =
        *s.source_size > off.byte_offset ? *s.source_size - off.byte_offset : 0;
    o.Unsigned("source_backlog_bytes", behind);
  } else {
    o.Raw("source_backlog_bytes", "null");
  }
  return o.Raw("lock", LockJson(s.chunker_lock)).Done();
}

std::string DetectorJson(const RootStatus& s) {
  const DetectorCheckpoint c = s.checkpoint.value_or(DetectorCheckpoint{});
  const std::string per_pattern = JsonObject()
                                      .Unsigned("PatId1", c.per_pattern[0])
                                      .Unsigned("PatId2", c.per_pattern[1])
                                      .Unsigned("PatId3", c.per_pattern[2])
                                      .Done();
  return JsonObject()
      .StrOrNull("checkpoint", s.checkpoint_key)
      .Num("checkpoint_age_ms", s.CheckpointAgeMs())
      .Unsigned("chunks", c.chunks)
      .StrOrNull("last_chunk", c.last_chunk_key)
      .Unsigned("next_record", c.next_record)
      .Unsigned("records", c.records)
      .Unsigned("bad_rows", c.bad_rows)
      .Unsigned("detections", c.detections)
      .Raw("detections_per_pattern", per_pattern)
      .Unsigned("files", c.files)
      .Unsigned("pending_detections", c.pending.size())
      .Raw("lock", LockJson(s.detector_lock))
      .Done();
}

std::string BacklogJson(const RootStatus& s) {
  return JsonObject()
      .Unsigned("chunks", s.backlog_chunks)
      .Bool("chunks_truncated", s.backlog_truncated)
      .Unsigned("records", s.BacklogRecords())
      .StrOrNull("oldest_chunk", s.oldest_backlog_chunk)
      .Num("lag_ms", s.LagMs())
      .Done();
}

std::string OutputsJson(const RootStatus& s) {
  return JsonObject()
      .Unsigned("detection_files", s.detection_files)
      .Bool("detection_files_truncated", s.detection_files_truncated)
      .StrOrNull("last_detection_file", s.last_detection_file)
      .Unsigned("quarantine_files", s.quarantine_files)
      .Bool("quarantine_files_truncated", s.quarantine_truncated)
      .Done();
}

// "12 s ago", "3 min ago", for the table.
std::string Ago(int64_t ms) {
  if (ms < 120'000) return std::to_string(ms / 1000) + " s ago";
  if (ms < 7'200'000) return std::to_string(ms / 60'000) + " min ago";
  return std::to_string(ms / 3'600'000) + " h ago";
}

std::string LockText(const LockStatus& l, int64_t now_ms) {
  if (!l.holder) return "none";
  const LockHolder& h = *l.holder;
  const int64_t left = h.expires_ms - now_ms;
  return "pid " + std::to_string(h.pid) + " on " + h.host +
         (l.expired ? ", EXPIRED " + Ago(-left)
                    : ", lease " + std::to_string(left / 1000) + " s left");
}

std::string AtLeast(uint64_t n, bool truncated) {
  return (truncated ? "at least " : "") + std::to_string(n);
}

void Row(std::string* out, const char* label, const std::string& value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%-12s ", label);
  *out += buf + value + "\n";
}

void SourceRows(const RootStatus& s, std::string* out) {
  std::string src = s.source_uri.empty() ? "unknown" : s.source_uri;
  if (s.source_size) {
    src += ", " + std::to_string(*s.source_size) + " bytes";
  } else if (!s.source_error.empty()) {
    src += ", size unknown: " + s.source_error;
  }
  Row(out, "source", src);
  if (!s.offset)
    return Row(out, "chunker", "not started (no state/offset.csv)");
  const OffsetState& o = *s.offset;
  Row(out, "chunker",
      std::to_string(o.chunks_written) + " chunks, next record " +
          std::to_string(o.next_record) + " at byte " +
          std::to_string(o.byte_offset) + ", updated " +
          Ago(s.now_ms - o.updated_at_ms));
  Row(out, "  lock", LockText(s.chunker_lock, s.now_ms));
}

void DetectorRows(const RootStatus& s, std::string* out) {
  if (!s.checkpoint) {
    Row(out, "detector", "no checkpoint yet");
  } else {
    const DetectorCheckpoint& c = *s.checkpoint;
    Row(out, "detector",
        std::to_string(c.chunks) + " chunks, next record " +
            std::to_string(c.next_record) + ", checkpoint " +
            Ago(s.CheckpointAgeMs()));
  }
  Row(out, "  lock", LockText(s.detector_lock, s.now_ms));
  Row(out, "backlog",
      AtLeast(s.backlog_chunks, s.backlog_truncated) + " chunks, " +
          std::to_string(s.BacklogRecords()) + " records, lag " +
          std::to_string(s.LagMs() / 1000) + " s");
}

void OutputRows(const RootStatus& s, std::string* out) {
  const DetectorCheckpoint c = s.checkpoint.value_or(DetectorCheckpoint{});
  Row(out, "detections",
      std::to_string(c.detections) + " (PatId1 " +
          std::to_string(c.per_pattern[0]) + ", PatId2 " +
          std::to_string(c.per_pattern[1]) + ", PatId3 " +
          std::to_string(c.per_pattern[2]) + "), " +
          std::to_string(c.pending.size()) + " pending");
  Row(out, "files",
      AtLeast(s.detection_files, s.detection_files_truncated) +
          (s.last_detection_file.empty() ? ""
                                         : ", last " + s.last_detection_file));
  Row(out, "quarantine",
      AtLeast(s.quarantine_files, s.quarantine_truncated) + " files, " +
          std::to_string(c.bad_rows) + " bad rows");
}

}  // namespace

int StatusExitCode(const RootStatus& s) {
  if (!s.broken.empty()) return kStatusBroken;
  if (!s.lagging.empty()) return kStatusLagging;
  return kStatusHealthy;
}

const char* VerdictName(int exit_code) {
  return exit_code == kStatusHealthy   ? "healthy"
         : exit_code == kStatusLagging ? "lagging"
                                       : "broken";
}

std::string FormatStatusJson(const RootStatus& s, const StatusRequests& r) {
  std::vector<std::string> reasons = s.broken;
  reasons.insert(reasons.end(), s.lagging.begin(), s.lagging.end());
  const int code = StatusExitCode(s);
  return JsonObject()
             .Str("format", "txflow-status-1")
             .Str("root", s.root)
             .Num("now_ms", s.now_ms)
             .Str("verdict", VerdictName(code))
             .Num("exit_code", code)
             .StrArray("reasons", reasons)
             .Raw("source", SourceJson(s))
             .Raw("chunker", ChunkerJson(s))
             .Raw("detector", DetectorJson(s))
             .Raw("backlog", BacklogJson(s))
             .Raw("outputs", OutputsJson(s))
             .Raw("requests", RequestsJson(r))
             .Done() +
         "\n";
}

std::string FormatStatusErrorJson(const std::string& root,
                                  const std::string& error,
                                  const StatusRequests& r) {
  return JsonObject()
             .Str("format", "txflow-status-1")
             .Str("root", root)
             .Str("verdict", VerdictName(kStatusBroken))
             .Num("exit_code", kStatusBroken)
             .StrArray("reasons", {error})
             .Raw("requests", RequestsJson(r))
             .Done() +
         "\n";
}

std::string FormatStatusText(const RootStatus& s, const StatusRequests& r) {
  std::string out;
  const int code = StatusExitCode(s);
  Row(&out, "root", s.root);
  Row(&out, "verdict", VerdictName(code));
  for (const auto& why : s.broken) Row(&out, "  broken", why);
  for (const auto& why : s.lagging) Row(&out, "  lagging", why);
  SourceRows(s, &out);
  DetectorRows(s, &out);
  OutputRows(s, &out);
  if (r.Total() > 0) {
    Row(&out, "requests",
        std::to_string(r.Total()) + " of at most " + std::to_string(r.budget) +
            " (GET " + std::to_string(r.get) + ", HEAD " +
            std::to_string(r.head) + ", LIST " + std::to_string(r.list) + ")");
  }
  return out;
}

}  // namespace txflow
