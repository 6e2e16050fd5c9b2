#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/pipeline.h"
#include "common/log.h"
#include "io/conditional_write_probe.h"
#include "s3/s3_client.h"

#ifndef TXFLOW_VERSION
#define TXFLOW_VERSION "unknown"
#endif

namespace txflow {

int ParseOrExit(FlagSet& flags, const std::string& command, const Args& args) {
  // --log-format is registered here so that every command has it. Static:
  // `flags` keeps a pointer to it.
  static std::string log_format;
  log_format = "human";
  flags.String("log-format", &log_format, "FORMAT",
               "log lines on stderr: human, or json (one object per line: "
               "ts, level, msg, mechanism) for log shippers");
  Status s = flags.Parse(args);
  if (s.ok() && log_format != "human" && log_format != "json") {
    s = Status::InvalidArgument("--log-format: '" + log_format +
                                "' is not human or json");
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "txflow %s: %s\nRun 'txflow %s --help' for usage.\n",
                 command.c_str(), s.message().c_str(), command.c_str());
    return kExitUsage;
  }
  SetLogFormat(log_format == "json" ? LogFormat::kJson : LogFormat::kHuman);
  return -1;
}

void AddStorageFlags(FlagSet& flags, StorageFlags* f) {
  flags.String("s3-endpoint", &f->s3_endpoint, "URL",
               "S3-compatible endpoint for s3:// URIs, e.g. "
               "http://127.0.0.1:7070 (default: AWS_ENDPOINT_URL, else AWS)");
  flags.Bool("assume-single-writer", &f->assume_single_writer,
             "skip the start-up check that the store honours conditional "
             "writes; only if you yourself guarantee one chunker and one "
             "detector per root (two writers can duplicate detections or "
             "corrupt the offset; docs/s3.md)");
}

Status CheckRootWrites(FileSystem* root, const StorageFlags& f,
                       const char* who) {
  // A local root's conditional writes are txflow's own (flock and rename in
  // io/local_file_system.cc): only a store can ignore them. Probing stores
  // only also leaves a fresh local root untouched when a start fails.
  if (root->Uri("").rfind("s3://", 0) != 0) return Status::OK();
  if (f.assume_single_writer) {
    LogInfo(std::string(who) + ": warning: --assume-single-writer: not " +
            "checking that " + RootUri(*root) +
            " honours conditional writes; a second writer on this root would "
            "go unnoticed");
    return Status::OK();
  }
  Status s = RetryTransient(who, [&] { return CheckConditionalWrites(root); });
  if (s.code() != StatusCode::kNotSupported) return s;
  return Status::NotSupported(
      s.message() +
      ". Use a store that honours conditional writes, or "
      "--assume-single-writer if you guarantee a single writer yourself");
}

void ApplyStorageFlags(const StorageFlags& f) {
  if (!f.s3_endpoint.empty()) {
    ::setenv("AWS_ENDPOINT_URL", f.s3_endpoint.c_str(), 1);
  }
}

std::string S3RequestSummary() {
  const s3::S3RequestCounts c = s3::GlobalS3RequestCounts();
  if (c.Total() == 0) return "";
  return "s3 requests: " + std::to_string(c.Total()) + " (GET " +
         std::to_string(c.get) + ", HEAD " + std::to_string(c.head) + ", PUT " +
         std::to_string(c.put) + ", POST " + std::to_string(c.post) +
         ", DELETE " + std::to_string(c.del) + ", LIST " +
         std::to_string(c.list) + "), retries " + std::to_string(c.retries);
}

int Fail(const std::string& command, const Status& status) {
  LogError("txflow " + command + ": " + status.ToString());
  return kExitFailure;
}

int RunVersion(const Args& args) {
  FlagSet flags("txflow version", "Prints the version of this txflow binary.");
  if (int rc = ParseOrExit(flags, "version", args); rc >= 0) return rc;
  std::printf("txflow %s\n", TXFLOW_VERSION);
  return kExitOk;
}

}  // namespace txflow
