// The start-up check that a root's store honours the two conditional writes
// txflow's one-writer-per-root guarantee rests on: create-only (S3
// "If-None-Match: *": chunks, detection files, lock objects) and
// replace-if-match (S3 "If-Match: <etag>": offset.csv, lock renewal, the
// checkpoint's CURRENT). A store that ignores them (s3proxy 2.6.0 with its
// filesystem provider answers 200 and overwrites) would let two chunkers or
// two detectors run on one root without a word; see docs/s3.md.
#ifndef TXFLOW_IO_CONDITIONAL_WRITE_PROBE_H_
#define TXFLOW_IO_CONDITIONAL_WRITE_PROBE_H_

#include <string>
#include <string_view>

#include "txflow/file_system.h"

namespace txflow {

// Scratch objects of the probe live under this prefix of a root.
inline constexpr std::string_view kProbePrefix = "state/probe/";

// Probes `root` with a scratch object "state/probe/<host>-<pid>-<ns>", fresh
// for every call, deleted afterwards (best effort), in four writes, each with
// different bytes:
//   1. create-only            -> must succeed
//   2. create-only again      -> must fail AlreadyExists
//   3. replace-if-match with the current version -> must succeed
//   4. replace-if-match with the version of step 1 (stale) -> must fail
//      PreconditionFailed
// Before that it deletes scratch objects left by probes that were killed,
// once they are over an hour old (by the time in their names).
//
// Returns OK when the store honours both; NotSupported, one line naming the
// root and the missing behaviour(s), when it does not; any other error of the
// store as it is. A retryable error leaves the verdict open: the call is safe
// to repeat (RetryTransient), since each call uses a new key, and a lost
// answer can only make a step look refused where it should have succeeded
// (steps 1 and 3), which the probe settles by reading the object back.
Status CheckConditionalWrites(FileSystem* root);

// The scratch key a probe of this process would use now (for tests).
std::string ConditionalWriteProbeKey();

}  // namespace txflow

#endif  // TXFLOW_IO_CONDITIONAL_WRITE_PROBE_H_
