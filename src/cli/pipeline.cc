#include "cli/pipeline.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "cli/progress.h"
#include "cli/signals.h"
#include "common/backoff.h"
#include "common/log.h"
#include "common/task_pool.h"
#include "csv/row_decoder.h"
#include "detector/checkpoint.h"
#include "detector/detection_file.h"
#include "obs/probes.h"
#include "obs/telemetry.h"

namespace txflow {

namespace {
// More threads than this would be idle: a chunk touches a few dozen
// merchants (BankSim has 50), and one merchant is never split.
constexpr uint64_t kMaxDetectorThreads = 256;
}  // namespace

void AddChunkerFlags(FlagSet& flags, ChunkerFlags* f, bool with_drain) {
  flags.Uint("chunk-rows", &f->options.chunk_rows, "records per chunk");
  flags.Duration("every", &f->every, "time between chunker ticks");
  flags.Bool("once", &f->once,
             "run one tick and exit (for cron / external schedulers; "
             "txflow chunk only)");
  if (with_drain) {
    flags.Bool("drain", &f->options.drain,
               "the source is complete: cut everything, the last chunk may be "
               "short, exit");
  }
  flags.Duration(
      "linger", &f->options.linger,
      "cut a short chunk once the source has not grown for this long");
  flags.Uint("max-chunks-per-tick", &f->options.max_chunks_per_tick,
             "catch-up: chunks one tick may cut");
}

void AddDetectorFlags(FlagSet& flags, DetectorFlags* f) {
  Thresholds& t = f->options.thresholds;
  flags.String("importance", &f->importance, "URI",
               "CustomerImportance.csv (path, file:// or s3://); weights "
               "default to amounts");
  flags.Duration("poll", &f->poll,
                 "time between polls of the landing zone when idle");
  flags.Bool(
      "flush-on-exit", &f->flush_on_exit,
      "on SIGINT/SIGTERM, also write pending detections as a short file");
  flags.String("timezone", &f->timezone, "TZ",
               "time zone of detection times: Asia/Kolkata, UTC or +HH:MM");
  flags.Uint("upgrade-min-txns", &t.upgrade_min_txns,
             "PatId1: merchant needs more transactions than this");
  flags.Uint(
      "upgrade-count-percentile", &f->upgrade_count_pct,
      "PatId1: customer count >= this percentile of the merchant's counts");
  flags.Uint("upgrade-weight-percentile", &f->upgrade_weight_pct,
             "PatId1: customer average weight <= this percentile");
  flags.Uint("child-min-txns", &t.child_min_txns,
             "PatId2: at least this many transactions with the merchant");
  flags.String("child-max-avg", &f->child_max_avg, "RUPEES",
               "PatId2: average amount below this");
  flags.Uint("dei-min-female", &t.dei_min_female,
             "PatId3: more female customers than this (and fewer than male)");
  flags.Uint("checkpoint-every", &f->options.checkpoint_every,
             "chunks between detector snapshots (bounds replay after a crash)");
  flags.Uint("threads", &f->threads,
             "threads that apply and evaluate a chunk's merchants (default 0: "
             "the cores this process may use); results never depend on it");
}

Status FinishDetectorFlags(DetectorFlags* f) {
  if (f->upgrade_count_pct > 100 || f->upgrade_weight_pct > 100) {
    return Status::InvalidArgument("percentiles must be between 0 and 100");
  }
  f->options.thresholds.upgrade_count_pct =
      static_cast<uint32_t>(f->upgrade_count_pct);
  f->options.thresholds.upgrade_weight_pct =
      static_cast<uint32_t>(f->upgrade_weight_pct);
  auto paise = ParseDecimal(f->child_max_avg, 2);
  if (!paise) {
    return Status::InvalidArgument("--child-max-avg: '" + f->child_max_avg +
                                   "' is not a decimal number");
  }
  f->options.thresholds.child_max_avg_paise = *paise;
  TXFLOW_ASSIGN_OR_RETURN(f->options.tz_offset_minutes,
                          ParseTimezone(f->timezone));
  if (f->options.checkpoint_every == 0) {
    return Status::InvalidArgument("--checkpoint-every must be > 0");
  }
  if (f->threads > kMaxDetectorThreads) {
    return Status::InvalidArgument("--threads must be at most " +
                                   std::to_string(kMaxDetectorThreads));
  }
  f->options.threads = f->threads != 0 ? static_cast<int>(f->threads)
                                       : TaskPool::CoresAvailable();
  return Status::OK();
}

Result<std::unique_ptr<PendingImportance>> StartImportance(
    const std::string& uri) {
  if (uri.empty()) return std::unique_ptr<PendingImportance>();
  TXFLOW_ASSIGN_OR_RETURN(ObjectLocation where, SplitObjectUri(uri));
  TXFLOW_ASSIGN_OR_RETURN(std::shared_ptr<FileSystem> fs,
                          OpenFileSystem(where.root_uri));
  auto read = [fs, key = where.key, uri]() -> Result<ObjectBytes> {
    // Retried here, so both commands get it (SPEC §5: transient errors are
    // retried before they count).
    Result<ObjectBytes> text = ObjectBytes();
    // Read, not mapped (FileSystem::ReadMapped): the table is the user's
    // file, which may be rewritten in place while it is parsed.
    RetryTransient("y", [&] {
      Result<std::string> bytes = fs->Read(key);
      text = bytes.ok() ? Result<ObjectBytes>(ObjectBytes(std::move(*bytes)))
                        : Result<ObjectBytes>(bytes.status());
      return text.status();
    }).IgnoreError();  // the last attempt's status is in `text`
    if (text.status().IsNotFound()) {
      return Status::NotFound(uri + ": importance table not found");
    }
    return text;
  };
  return std::make_unique<PendingImportance>(std::move(read), uri);
}

Status AwaitImportanceUnlessRestoring(FileSystem* root,
                                      PendingImportance* importance) {
  if (importance == nullptr || root->Stat(kDetectorCurrentKey).ok()) {
    return Status::OK();
  }
  return importance->Wait().status();
}

Status ImportanceError(PendingImportance* importance) {
  return importance == nullptr ? Status::OK() : importance->Wait().status();
}

Status OpenDetector(Detector* detector, PendingImportance* importance) {
  const Status s = RetryTransient("y", [&] {
    const Status open = detector->Open();
    // A table that could not be read (its read was retried already) is
    // not retried again through Open: it is reported below.
    if (!open.ok() && importance != nullptr &&
        !importance->Fingerprint().ok()) {
      return Status::OK();
    }
    return open;
  });
  // A table that does not parse is the cause to report, even when Open()
  // failed on its fingerprint; and X must not start beside a detector that
  // cannot run.
  if (importance != nullptr) {
    auto table = importance->Wait();
    if (!table.ok()) return table.status();
  }
  return s;
}

void AddObsFlags(FlagSet& flags, ObsFlags* f) {
  flags.String("metrics-addr", &f->metrics_addr, "HOST:PORT",
               "serve GET /metrics (Prometheus) and GET /healthz here; port 0 "
               "picks a free port (logged); off by default");
  flags.Duration("stall-after", &f->stall_after,
                 "alert (and /healthz 503) after no progress for this long "
                 "while work is waiting");
  flags.Strings("notify-webhook", &f->webhooks, "URL",
                "POST alerts (stopped, stalled, recovered) as JSON here; the "
                "URL is never logged; @FILE reads URLs from FILE, one a line, "
                "so the secret stays out of the process list");
  flags.Strings("notify-command", &f->commands, "CMD",
                "run CMD with /bin/sh -c and the alert JSON on stdin");
  flags.Duration("notify-timeout", &f->notify_timeout,
                 "time limit of one --notify-command run");
}

namespace {

// --notify-webhook values: a URL, or @FILE with URLs one a line.
Result<std::vector<std::string>> WebhookUrls(
    const std::vector<std::string>& values) {
  std::vector<std::string> urls;
  for (const std::string& v : values) {
    if (v[0] != '@') {
      urls.push_back(v);
      continue;
    }
    std::ifstream in(v.substr(1));
    if (!in) {
      return Status::InvalidArgument("--notify-webhook " + v +
                                     ": cannot read the file");
    }
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
      if (!line.empty()) urls.push_back(line);
    }
  }
  return urls;
}

}  // namespace

Result<std::unique_ptr<obs::Monitor>> StartMonitor(const ObsFlags& f,
                                                   const std::string& root_uri,
                                                   const ChunkerFlags* x) {
  obs::MonitorOptions o;
  o.metrics_addr = f.metrics_addr;
  o.stall_after = f.stall_after;
  o.root = root_uri;
  TXFLOW_ASSIGN_OR_RETURN(o.notify.webhooks, WebhookUrls(f.webhooks));
  o.notify.commands = f.commands;
  o.notify.command_timeout = f.notify_timeout;
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  o.notify.host = host;
  o.notify.pid = static_cast<int>(::getpid());
  o.notify.version = TXFLOW_VERSION;
  if (x != nullptr) {
    o.min_stall[0] = x->options.linger + x->every;
  }
  obs::SetDeepProbes(!f.metrics_addr.empty() || !o.notify.webhooks.empty() ||
                     !f.commands.empty());
  auto monitor = std::make_unique<obs::Monitor>(std::move(o));
  TXFLOW_RETURN_IF_ERROR(monitor->Start());
  return monitor;
}

std::unique_ptr<FileSystem> Instrumented(std::unique_ptr<FileSystem> fs,
                                         std::string watch_key) {
  return obs::Telemetry::Get().Instrument(std::move(fs), std::move(watch_key));
}

std::chrono::milliseconds Backoff(int attempt) {
  return BackoffDelay(attempt, 100, 10'000);
}

namespace {

// After a failed step: for a retryable error with retries left, logs, sleeps
// with backoff and returns true (try again); otherwise returns false.
bool WaitToRetry(const Status& s, const char* who, int* attempt) {
  if (!s.IsRetryable() || *attempt >= kMaxRetries) return false;
  obs::Telemetry::Get()
      .retries(who[0] == 'x' ? obs::Mechanism::kX : obs::Mechanism::kY)
      .Add();
  const auto wait = Backoff((*attempt)++);
  LogInfo(std::string(who) + ": retrying in " + std::to_string(wait.count()) +
          "ms after: " + s.ToString());
  SleepUnlessStopped(wait);
  return true;
}

}  // namespace

Status RetryTransient(const char* who, const std::function<Status()>& step) {
  int attempt = 0;
  while (true) {
    Status s = step();
    if (s.ok() || !WaitToRetry(s, who, &attempt)) return s;
  }
}

Status RunChunkerLoop(Chunker& chunker, LeaseLock& lock, const ChunkerFlags& f,
                      std::atomic<bool>* done) {
  struct MarkDone {
    std::atomic<bool>* d;
    ~MarkDone() {
      if (d) *d = true;
    }
  } mark{done};
  // --- progress line (cli/progress.h; demo): drawn on a terminal only ---
  ProgressReporter progress_line('x', f.options.drain);
  // --- end progress line ---
  int attempt = 0;
  uint64_t progress = chunker.state().next_record;
  obs::ChunkerProbe probe;  // metrics, health and stall alerts
  probe.Started();
  while (!StopRequested()) {
    const auto tick_start = std::chrono::steady_clock::now();
    auto r = chunker.Tick();
    if (!r.ok()) {
      probe.Failed(r.status());
      // The retry budget counts failures in a row without progress: a long
      // drain tick that failed after cutting chunks starts a fresh budget.
      if (chunker.state().next_record != progress) attempt = 0;
      progress = chunker.state().next_record;
      if (WaitToRetry(r.status(), "x", &attempt)) continue;
      return r.status();
    }
    attempt = 0;
    // --- progress line (cli/progress.h; demo) ---
    progress_line.Update(chunker);
    // --- end progress line ---
    probe.AfterTick(chunker, *r);
    if ((f.options.drain && r->drained) || f.once) break;
    if (Status s = lock.Renew(); !s.ok()) {
      if (WaitToRetry(s, "x", &attempt)) continue;
      return s;
    }
    if (f.options.drain) continue;
    Status renew_failure;
    SleepUnlessStopped(
        f.every - std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - tick_start),
        [&] {
          renew_failure = lock.Renew();
          return renew_failure.ok();
        });
    if (!renew_failure.ok() && !WaitToRetry(renew_failure, "x", &attempt)) {
      return renew_failure;
    }
  }
  return Status::OK();
}

Status RunDetectorLoop(Detector& detector, LeaseLock& lock, FileSystem* root,
                       const DetectorFlags& f, bool drain,
                       const std::function<bool()>& upstream_done) {
  // --- progress line (cli/progress.h; demo): drawn on a terminal only ---
  ProgressReporter progress_line('y', drain);
  // --- end progress line ---
  int attempt = 0;
  uint64_t progress = detector.stats().chunks;
  obs::DetectorProbe probe;  // metrics, health and stall alerts
  probe.Started(detector, root);
  while (!StopRequested()) {
    const bool upstream_was_done = upstream_done();
    auto r = detector.Poll([] { return StopRequested(); });
    if (!r.ok()) {
      probe.Failed(r.status());
      // As in RunChunkerLoop: failures in a row without progress.
      if (detector.stats().chunks != progress) attempt = 0;
      progress = detector.stats().chunks;
      if (WaitToRetry(r.status(), "y", &attempt)) continue;
      return r.status();
    }
    attempt = 0;
    // --- progress line (cli/progress.h; demo) ---
    progress_line.Update(detector, root);
    // --- end progress line ---
    probe.AfterPoll(detector, root);
    if (Status s = lock.Renew(); !s.ok()) {
      if (WaitToRetry(s, "y", &attempt)) continue;
      return s;
    }
    if (r->chunks > 0 || r->more) continue;
    if (drain && upstream_was_done) break;
    // While the chunker is still cutting a drain, look again soon.
    const auto wait =
        drain ? std::min(f.poll, std::chrono::milliseconds(50)) : f.poll;
    Status renew_failure;
    SleepUnlessStopped(wait, [&] {
      renew_failure = lock.Renew();
      return renew_failure.ok();
    });
    if (!renew_failure.ok() && !WaitToRetry(renew_failure, "y", &attempt)) {
      return renew_failure;
    }
  }
  // A short file is written only at the true end of a drain (or on a stop
  // with --flush-on-exit): a drain cut short by a stop or by the chunker's
  // failure leaves its pending detections to the next run, so files still
  // hold 50 each, exactly as in an uninterrupted run.
  if ((drain && !StopRequested()) || (StopRequested() && f.flush_on_exit)) {
    TXFLOW_RETURN_IF_ERROR(
        RetryTransient("y", [&] { return detector.FlushPending(); }));
  }
  return RetryTransient("y", [&] { return detector.Checkpoint(); });
}

std::string DetectorSummary(const Detector& d, uint64_t records_before,
                            double seconds) {
  const auto& s = d.stats();
  const std::vector<int64_t>& raw = d.chunk_micros();
  auto median = [](std::vector<int64_t> v) {
    if (v.empty()) return 0.0;
    const auto mid = v.begin() + static_cast<ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return static_cast<double>(*mid) / 1000.0;
  };
  // Median chunk time over the first and the last tenth of the chunks: the
  // per-chunk cost must not grow with history.
  const auto tenth =
      static_cast<ptrdiff_t>(std::max<size_t>(1, raw.size() / 10));
  const double first =
      raw.empty() ? 0.0 : median({raw.begin(), raw.begin() + tenth});
  const double last =
      raw.empty() ? 0.0 : median({raw.end() - tenth, raw.end()});
  std::vector<int64_t> t = raw;
  std::sort(t.begin(), t.end());
  auto pct = [&](double p) {
    return t.empty() ? 0.0
                     : static_cast<double>(
                           t[static_cast<size_t>(p * (t.size() - 1))]) /
                           1000.0;
  };
  char line[640];
  std::snprintf(
      line, sizeof(line),
      "records %" PRIu64 ", bad rows %" PRIu64 ", chunks %" PRIu64
      ", detections PatId1 %" PRIu64 " PatId2 %" PRIu64 " PatId3 %" PRIu64
      ", files %" PRIu64 ", pending %" PRIu64
      ", %.2f s, %.2f M records/s, chunk p50 %.2f ms p99 %.2f ms"
      " (median of first tenth %.2f ms, last tenth %.2f ms)",
      s.records, s.bad_rows, s.chunks, s.per_pattern[0], s.per_pattern[1],
      s.per_pattern[2], s.files, s.pending, seconds,
      seconds > 0 ? (s.records - records_before) / seconds / 1e6 : 0.0,
      pct(0.5), pct(0.99), first, last);
  return line;
}

}  // namespace txflow
