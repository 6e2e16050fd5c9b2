// txflow detect (alias y): Mechanism Y as a command.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/pipeline.h"
#include "cli/signals.h"
#include "common/log.h"

namespace txflow {

int RunDetect(const Args& args) {
  std::string root;
  bool drain = false;
  DetectorFlags f;
  std::chrono::milliseconds lock_ttl = kDefaultLockTtl;
  FlagSet flags("txflow detect",
                "Mechanism Y: takes ROOT/landing_zone/ chunks in order, "
                "evaluates UPGRADE,\n"
                "CHILD and DEI-NEEDED after each, and writes new detections 50 "
                "per file to\n"
                "ROOT/detections/, exactly once across crashes "
                "(docs/detector.md). Runs until\n"
                "stopped; --drain processes what exists, writes the remainder, "
                "and exits.");
  flags.String("root", &root, "URI",
               "the root the chunker writes to (path, file:// or s3://)", true);
  flags.Bool("drain", &drain,
             "process every chunk present, write pending detections as a last "
             "file, exit");
  AddDetectorFlags(flags, &f);
  flags.Duration("lock-ttl", &lock_ttl, "lease of the root's detector lock");
  StorageFlags storage;
  AddStorageFlags(flags, &storage);
  ObsFlags obs_flags;
  AddObsFlags(flags, &obs_flags);
  if (int rc = ParseOrExit(flags, "detect", args); rc >= 0) return rc;
  ApplyStorageFlags(storage);
  if (Status s = FinishDetectorFlags(&f); !s.ok()) {
    std::fprintf(stderr, "txflow detect: %s\n", s.message().c_str());
    return kExitUsage;
  }
  auto importance = StartImportance(f.importance);
  if (!importance.ok()) return Fail("detect", importance.status());
  auto root_fs = OpenFileSystem(root);
  if (!root_fs.ok()) return Fail("detect", root_fs.status());
  *root_fs = Instrumented(std::move(*root_fs));
  if (Status s =
          AwaitImportanceUnlessRestoring(root_fs->get(), importance->get());
      !s.ok()) {
    return Fail("detect", s);
  }
  auto monitor = StartMonitor(obs_flags, RootUri(**root_fs), nullptr);
  if (!monitor.ok()) return Fail("detect", monitor.status());
  // Every failure from here on is a fatal stop, alerted before the exit;
  // except a table that cannot be read or parsed (still being read on a
  // root with a checkpoint): an input error of the start, reported in its
  // place without an alert, as on a root with nothing to restore.
  auto fail = [&](const Status& s) {
    if (Status t = ImportanceError(importance->get()); !t.ok()) {
      return Fail("detect", t);
    }
    (*monitor)->Fatal(obs::Mechanism::kY, s);
    return Fail("detect", s);
  };
  if (Status s = CheckRootWrites(root_fs->get(), storage, "y"); !s.ok())
    return fail(s);

  Clock* clock = SystemClock::Get();
  LeaseLock lock(root_fs->get(), std::string(kDetectorLockKey), clock,
                 lock_ttl);
  if (Status s = RetryTransient("y", [&] { return lock.Acquire(); }); !s.ok()) {
    return fail(s);
  }
  InstallStopHandlers();
  if (::isatty(STDERR_FILENO)) SetLogQuiet(true);  // a progress line instead
  const auto start = std::chrono::steady_clock::now();
  Detector detector(root_fs->get(), importance->get(), f.options, clock);
  Status s = OpenDetector(&detector, importance->get());
  const uint64_t records_before = detector.stats().records;
  if (s.ok())
    s = RunDetectorLoop(detector, lock, root_fs->get(), f, drain,
                        [] { return true; });
  lock.Release().IgnoreError();
  if (!s.ok()) return fail(s);
  SetLogQuiet(false);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  LogInfo("y: stopped: " + DetectorSummary(detector, records_before, secs));
  if (const std::string s3 = S3RequestSummary(); !s3.empty())
    LogInfo("y: " + s3);
  return kExitOk;
}

}  // namespace txflow
