// txflow status: a read-only report on a root, its exit code the verdict.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "common/clock.h"
#include "s3/s3_client.h"
#include "status/status_format.h"

namespace txflow {
namespace {

StatusRequests RequestsSoFar(uint64_t budget) {
  const s3::S3RequestCounts c = s3::GlobalS3RequestCounts();
  StatusRequests r;
  r.budget = budget;
  r.get = c.get;
  r.head = c.head;
  r.list = c.list;
  r.put = c.put;
  r.post = c.post;
  r.del = c.del;
  r.retries = c.retries;
  return r;
}

// Broken: one line on stderr (and the JSON object on stdout with --json).
int Broken(const std::string& root, const Status& s, bool json,
           uint64_t budget) {
  std::fprintf(stderr, "txflow status: %s\n", s.ToString().c_str());
  if (json) {
    std::fputs(FormatStatusErrorJson(root, s.ToString(), RequestsSoFar(budget))
                   .c_str(),
               stdout);
  }
  return kStatusBroken;
}

}  // namespace

int RunStatus(const Args& args) {
  std::string root;
  bool json = false;
  StatusOptions opt;
  std::chrono::milliseconds lag_warn{opt.lag_warn_ms};
  StorageFlags storage;
  FlagSet flags(
      "txflow status",
      "Reports a root: the chunker's and the detector's positions, the "
      "backlog\n"
      "between them and its age, detections, quarantine and locks. Reads "
      "only, at\n"
      "most --max-requests storage requests. Exit code: 0 healthy, 1 lagging "
      "(backlog\n"
      "older than --lag-warn, or a lock expired with work left), 2 broken "
      "(state\n"
      "unreadable or corrupt, a gap in the landing zone, a usage error).");
  flags.String("root", &root, "URI", "the root to report on (path or s3://)",
               true);
  flags.Bool("json", &json, "print one JSON object instead of the table");
  flags.String("source", &opt.source, "URI",
               "the source whose size to report (default: the one in "
               "state/offset.csv)");
  flags.Duration("lag-warn", &lag_warn,
                 "lagging when the oldest unprocessed chunk is older");
  flags.Uint("max-requests", &opt.max_requests,
             "storage requests at most (at least 15; the listings get "
             "(N-12)/3 pages of 1000 keys each)");
  flags.String("s3-endpoint", &storage.s3_endpoint, "URL",
               "S3-compatible endpoint for s3:// URIs (default: "
               "AWS_ENDPOINT_URL, else AWS)");
  if (int rc = ParseOrExit(flags, "status", args); rc >= 0) return rc;
  if (opt.max_requests < kMinStatusRequests) {
    std::fprintf(stderr, "txflow status: --max-requests must be at least %d\n",
                 static_cast<int>(kMinStatusRequests));
    return kExitUsage;
  }
  ApplyStorageFlags(storage);
  opt.lag_warn_ms = lag_warn.count();
  auto fs = OpenFileSystem(root);
  if (!fs.ok()) return Broken(root, fs.status(), json, opt.max_requests);
  auto s = CollectRootStatus(fs->get(), opt, SystemClock::Get()->NowMs());
  if (!s.ok()) return Broken(root, s.status(), json, opt.max_requests);
  const StatusRequests r = RequestsSoFar(opt.max_requests);
  const std::string out =
      json ? FormatStatusJson(*s, r) : FormatStatusText(*s, r);
  std::fputs(out.c_str(), stdout);
  return StatusExitCode(*s);
}

}  // namespace txflow
