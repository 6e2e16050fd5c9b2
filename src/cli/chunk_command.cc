// txflow chunk (alias x): Mechanism X as a command.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "chunker/chunker.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "common/log.h"
#include "io/lease_lock.h"

namespace txflow {
namespace {

constexpr int kMaxRetries = 8;
// Drain and catch-up ticks stay short so the lock lease is renewed between
// them even while a large backlog is cut.
constexpr uint64_t kDrainChunksPerTick = 64;

std::chrono::milliseconds Backoff(int attempt) {
  static std::mt19937 rng(std::random_device{}());
  const int64_t base = std::min<int64_t>(10'000, int64_t{100} << attempt);
  return std::chrono::milliseconds(
      base / 2 + static_cast<int64_t>(rng() % (base / 2 + 1)));
}

}  // namespace

int RunChunk(const Args& args) {
  std::string source, root;
  ChunkerOptions options;
  std::chrono::milliseconds every{5000}, lock_ttl{60'000};
  bool once = false;
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
  flags.Uint("chunk-rows", &options.chunk_rows, "records per chunk");
  flags.Duration("every", &every, "time between ticks");
  flags.Bool("once", &once,
             "run one tick and exit (for cron / external schedulers)");
  flags.Bool("drain", &options.drain,
             "the source is complete: cut everything, the last chunk may be "
             "short, exit");
  flags.Duration(
      "linger", &options.linger,
      "cut a short chunk once the source has not grown for this long");
  flags.Uint("max-chunks-per-tick", &options.max_chunks_per_tick,
             "catch-up: chunks one tick may cut");
  flags.Duration(
      "lock-ttl", &lock_ttl,
      "lease of the root's chunker lock; a crashed holder on another host "
      "blocks for at most this long");
  if (int rc = ParseOrExit(flags, "chunk", args); rc >= 0) return rc;
  if (options.chunk_rows == 0 || options.max_chunks_per_tick == 0) {
    std::fprintf(
        stderr,
        "txflow chunk: --chunk-rows and --max-chunks-per-tick must be > 0\n");
    return kExitUsage;
  }
  if (options.drain) {
    options.max_chunks_per_tick =
        std::max(options.max_chunks_per_tick, kDrainChunksPerTick);
  }

  auto where = SplitObjectUri(source);
  if (!where.ok()) return Fail("chunk", where.status().WithContext("--source"));
  auto source_fs = OpenFileSystem(where->root_uri);
  if (!source_fs.ok()) return Fail("chunk", source_fs.status());
  auto root_fs = OpenFileSystem(root);
  if (!root_fs.ok()) return Fail("chunk", root_fs.status());

  Clock* clock = SystemClock::Get();
  LeaseLock lock(root_fs->get(), std::string(kChunkerLockKey), clock, lock_ttl);
  if (Status s = lock.Acquire(); !s.ok()) return Fail("chunk", s);
  InstallStopHandlers();

  Chunker chunker(source_fs->get(), where->key, source, root_fs->get(), options,
                  clock);
  uint64_t chunks = 0, records = 0;
  int attempt = 0;
  Status failure;
  while (!StopRequested()) {
    const auto tick_start = std::chrono::steady_clock::now();
    auto r = chunker.Tick();
    if (!r.ok()) {
      if (r.status().IsRetryable() && attempt < kMaxRetries) {
        const auto wait = Backoff(attempt++);
        LogInfo("x: retrying in " + std::to_string(wait.count()) +
                "ms after: " + r.status().ToString());
        SleepUnlessStopped(wait);
        continue;
      }
      failure = r.status();
      break;
    }
    attempt = 0;
    chunks += r->chunks;
    records += r->records;
    if ((options.drain && r->drained) || once) break;
    if (Status s = lock.Renew(); !s.ok()) {
      failure = s;
      break;
    }
    if (options.drain) continue;
    auto renew = [&] {
      Status s = lock.Renew();
      if (!s.ok()) failure = s;
      return s.ok();
    };
    SleepUnlessStopped(
        every - std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - tick_start),
        renew);
    if (!failure.ok()) break;
  }
  lock.Release().IgnoreError();
  if (!failure.ok()) return Fail("chunk", failure);
  char line[256];
  std::snprintf(line, sizeof(line),
                "x: stopped: %" PRIu64 " chunks, %" PRIu64
                " records this run; next record %" PRIu64 " at byte %" PRIu64,
                chunks, records, chunker.state().next_record,
                chunker.state().byte_offset);
  LogInfo(line);
  return kExitOk;
}

}  // namespace txflow
