// txflow run: Mechanisms X and Y together on one root, in two threads.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/pipeline.h"
#include "cli/signals.h"
#include "common/log.h"

namespace txflow {

int RunPipeline(const Args& args) {
  std::string source, root;
  bool drain = false;
  ChunkerFlags cf;
  DetectorFlags df;
  std::chrono::milliseconds lock_ttl = kDefaultLockTtl;
  FlagSet flags("txflow run",
                "Runs Mechanism X (chunker) and Mechanism Y (detector) "
                "together on one root.\n"
                "With --drain it returns once the source is fully chunked and "
                "every chunk is\n"
                "processed, and prints a summary. Both keep their own locks "
                "and state, so a\n"
                "killed run resumes where it stopped.");
  flags.String("source", &source, "URI",
               "the source CSV (path, file:// or s3://)", true);
  flags.String("root", &root, "URI",
               "where everything is written (path, file:// or s3://)", true);
  flags.Bool("drain", &drain,
             "the source is complete: chunk and detect everything, then exit");
  AddChunkerFlags(flags, &cf, /*with_drain=*/false);
  AddDetectorFlags(flags, &df);
  flags.Duration("lock-ttl", &lock_ttl, "lease of the root's locks");
  StorageFlags storage;
  AddStorageFlags(flags, &storage);
  ObsFlags obs_flags;
  AddObsFlags(flags, &obs_flags);
  if (int rc = ParseOrExit(flags, "run", args); rc >= 0) return rc;
  ApplyStorageFlags(storage);
  if (Status s = FinishDetectorFlags(&df); !s.ok()) {
    std::fprintf(stderr, "txflow run: %s\n", s.message().c_str());
    return kExitUsage;
  }
  if (cf.options.chunk_rows == 0 || cf.options.max_chunks_per_tick == 0) {
    std::fprintf(
        stderr,
        "txflow run: --chunk-rows and --max-chunks-per-tick must be > 0\n");
    return kExitUsage;
  }
  if (cf.once) {
    // One tick of X would look like the end of the source to Y, which then
    // writes its pending detections as a short file mid-stream.
    std::fprintf(stderr,
                 "txflow run: --once is for txflow chunk (one tick for an "
                 "external scheduler); txflow run runs until stopped, or with "
                 "--drain until the source is done\n");
    return kExitUsage;
  }
  cf.options.drain = drain;
  if (drain) {
    cf.options.max_chunks_per_tick =
        std::max(cf.options.max_chunks_per_tick, kDrainChunksPerTick);
  }

  auto where = SplitObjectUri(source);
  if (!where.ok()) return Fail("run", where.status().WithContext("--source"));
  auto source_fs = OpenFileSystem(where->root_uri);
  if (!source_fs.ok()) return Fail("run", source_fs.status());
  auto root_fs = OpenFileSystem(root);
  if (!root_fs.ok()) return Fail("run", root_fs.status());
  *source_fs = Instrumented(std::move(*source_fs), where->key);
  *root_fs = Instrumented(std::move(*root_fs));
  auto monitor = StartMonitor(obs_flags, RootUri(**root_fs), &cf);
  if (!monitor.ok()) return Fail("run", monitor.status());
  auto importance = StartImportance(df.importance);
  PendingImportance* table = importance.ok() ? importance->get() : nullptr;
  // Every failure from here on is a fatal stop of X or Y: alerted before the
  // exit, naming the mechanism that failed. A table that cannot be read or
  // parsed (still being read on a root with a checkpoint) is reported in
  // the place of any other failure, as Y's.
  auto fail = [&](obs::Mechanism m, Status s) {
    if (Status t = ImportanceError(table); !t.ok()) {
      m = obs::Mechanism::kY;
      s = std::move(t);
    }
    (*monitor)->Fatal(m, s);
    return Fail("run", s);
  };
  if (!importance.ok()) return fail(obs::Mechanism::kY, importance.status());
  if (Status s =
          AwaitImportanceUnlessRestoring(root_fs->get(), importance->get());
      !s.ok()) {
    return fail(obs::Mechanism::kY, s);
  }
  if (Status s = CheckRootWrites(root_fs->get(), storage, "run"); !s.ok())
    return fail(obs::Mechanism::kX, s);

  Clock* clock = SystemClock::Get();
  LeaseLock x_lock(root_fs->get(), std::string(kChunkerLockKey), clock,
                   lock_ttl);
  LeaseLock y_lock(root_fs->get(), std::string(kDetectorLockKey), clock,
                   lock_ttl);
  if (Status s = RetryTransient("x", [&] { return x_lock.Acquire(); });
      !s.ok()) {
    return fail(obs::Mechanism::kX, s);
  }
  if (Status s = RetryTransient("y", [&] { return y_lock.Acquire(); });
      !s.ok()) {
    x_lock.Release().IgnoreError();
    return fail(obs::Mechanism::kY, s);
  }
  InstallStopHandlers();
  if (::isatty(STDERR_FILENO)) SetLogQuiet(true);
  const auto start = std::chrono::steady_clock::now();

  Detector detector(root_fs->get(), importance->get(), df.options, clock);
  if (Status s = OpenDetector(&detector, importance->get()); !s.ok()) {
    // Before X starts: a root whose detector cannot start gets no new chunks.
    x_lock.Release().IgnoreError();
    y_lock.Release().IgnoreError();
    return fail(obs::Mechanism::kY, s);
  }
  const uint64_t records_before = detector.stats().records;
  Chunker chunker(source_fs->get(), where->key, source, root_fs->get(),
                  cf.options, clock);
  std::atomic<bool> x_done{false};
  Status x_status;
  // x_done is set only after x_status is stored, so reading x_status after
  // seeing x_done (or after join) is race-free.
  std::thread x_thread([&] {
    x_status = RunChunkerLoop(chunker, x_lock, cf, nullptr);
    // X failed: stop Y as well. Y must not take X's end for the end of the
    // source, or it would flush a short detection file mid-stream.
    if (!x_status.ok()) RequestStop();
    x_done = true;
  });
  Status y_status = RunDetectorLoop(detector, y_lock, root_fs->get(), df, drain,
                                    [&] { return x_done.load(); });
  if (!y_status.ok() && !x_done) {
    // Y failed: stop X too rather than leave it running unobserved.
    RequestStop();
  }
  x_thread.join();
  x_lock.Release().IgnoreError();
  y_lock.Release().IgnoreError();
  SetLogQuiet(false);
  if (!x_status.ok()) return fail(obs::Mechanism::kX, x_status);
  if (!y_status.ok()) return fail(obs::Mechanism::kY, y_status);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const auto& st = detector.stats();
  std::printf(
      "Summary\n"
      "  source:      %s\n"
      "  records:     %llu chunked into %llu chunks (next record %llu)\n"
      "  detector:    %s\n"
      "  detections:  PatId1 UPGRADE %llu, PatId2 CHILD %llu, PatId3 "
      "DEI-NEEDED %llu\n"
      "  files:       %llu in %s/detections/ (%llu pending)\n",
      source.c_str(),
      static_cast<unsigned long long>(chunker.state().next_record),
      static_cast<unsigned long long>(chunker.state().chunks_written),
      static_cast<unsigned long long>(chunker.state().next_record),
      DetectorSummary(detector, records_before, secs).c_str(),
      static_cast<unsigned long long>(st.per_pattern[0]),
      static_cast<unsigned long long>(st.per_pattern[1]),
      static_cast<unsigned long long>(st.per_pattern[2]),
      static_cast<unsigned long long>(st.files), root.c_str(),
      static_cast<unsigned long long>(st.pending));
  if (const std::string s3 = S3RequestSummary(); !s3.empty()) {
    std::printf("  storage:     %s\n", s3.c_str());
  }
  return kExitOk;
}

}  // namespace txflow
