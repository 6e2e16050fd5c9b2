// txflow chunk (alias x): Mechanism X as a command.
#include <cinttypes>
#include <cstdio>

#include "cli/commands.h"
#include "cli/pipeline.h"
#include "cli/signals.h"
#include "common/log.h"

namespace txflow {
int RunChunk(const Args& args) {
  std::string source, root;
  ChunkerFlags f;
  std::chrono::milliseconds lock_ttl = kDefaultLockTtl;
  FlagSet flags(
      "txflow chunk",
      "Mechanism X: every --every, cuts the next --chunk-rows complete records "
      "of\n"
      "the source into ROOT/landing_zone/chunk-<first record>.csv and records "
      "the\n"
      "position in ROOT/state/offset.csv. Crash-safe: rerunning after a crash "
      "at\n"
      "any instant gives the same chunks. One chunker per root (a lock object\n"
      "ROOT/state/chunker.lock; see docs/formats.md).");
  flags.String("source", &source, "URI",
               "the source CSV (path, file:// or s3://)", true);
  flags.String("root", &root, "URI",
               "where chunks and state go (path, file:// or s3://)", true);
  AddChunkerFlags(flags, &f, /*with_drain=*/true);
  flags.Duration(
      "lock-ttl", &lock_ttl,
      "lease of the root's chunker lock; a crashed holder on another host "
      "blocks for at most this long");
  StorageFlags storage;
  AddStorageFlags(flags, &storage);
  ObsFlags obs_flags;
  AddObsFlags(flags, &obs_flags);
  if (int rc = ParseOrExit(flags, "chunk", args); rc >= 0) return rc;
  ApplyStorageFlags(storage);
  if (f.options.chunk_rows == 0 || f.options.max_chunks_per_tick == 0) {
    std::fprintf(
        stderr,
        "txflow chunk: --chunk-rows and --max-chunks-per-tick must be > 0\n");
    return kExitUsage;
  }
  if (f.options.drain) {
    f.options.max_chunks_per_tick =
        std::max(f.options.max_chunks_per_tick, kDrainChunksPerTick);
  }

  auto where = SplitObjectUri(source);
  if (!where.ok()) return Fail("chunk", where.status().WithContext("--source"));
  auto source_fs = OpenFileSystem(where->root_uri);
  if (!source_fs.ok()) return Fail("chunk", source_fs.status());
  auto root_fs = OpenFileSystem(root);
  if (!root_fs.ok()) return Fail("chunk", root_fs.status());
  *source_fs = Instrumented(std::move(*source_fs), where->key);
  *root_fs = Instrumented(std::move(*root_fs));
  auto monitor = StartMonitor(obs_flags, RootUri(**root_fs), &f);
  if (!monitor.ok()) return Fail("chunk", monitor.status());
  // Every failure from here on is a fatal stop: alerted before the exit.
  auto fail = [&](const Status& s) {
    (*monitor)->Fatal(obs::Mechanism::kX, s);
    return Fail("chunk", s);
  };
  if (Status s = CheckRootWrites(root_fs->get(), storage, "x"); !s.ok())
    return fail(s);

  Clock* clock = SystemClock::Get();
  LeaseLock lock(root_fs->get(), std::string(kChunkerLockKey), clock, lock_ttl);
  if (Status s = RetryTransient("x", [&] { return lock.Acquire(); }); !s.ok()) {
    return fail(s);
  }
  InstallStopHandlers();
  Chunker chunker(source_fs->get(), where->key, source, root_fs->get(),
                  f.options, clock);
  Status s = RunChunkerLoop(chunker, lock, f, nullptr);
  lock.Release().IgnoreError();
  if (!s.ok()) return fail(s);
  char line[256];
  std::snprintf(line, sizeof(line),
                "x: stopped: next record %" PRIu64 " at byte %" PRIu64,
                chunker.state().next_record, chunker.state().byte_offset);
  LogInfo(line);
  if (const std::string s3 = S3RequestSummary(); !s3.empty())
    LogInfo("x: " + s3);
  return kExitOk;
}

}  // namespace txflow
