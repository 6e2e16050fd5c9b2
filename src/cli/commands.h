// The subcommands of the txflow binary. Each takes the arguments after its
// name and returns the process exit code.
#ifndef TXFLOW_CLI_COMMANDS_H_
#define TXFLOW_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/flags.h"
#include "txflow/file_system.h"

namespace txflow {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure
inline constexpr int kExitUsage = 2;    // bad command line (or not implemented)

using Args = std::vector<std::string>;

int RunGen(const Args& args);
int RunChunk(const Args& args);
int RunDetect(const Args& args);
int RunPipeline(const Args& args);
int RunVersion(const Args& args);
int RunStatus(const Args& args);
int RunReport(const Args& args);  // report_command.cc

// Parses `args` into `flags`. Returns -1 to go on, or the exit code to return
// now (help printed: 0; usage error printed: 2).
int ParseOrExit(FlagSet& flags, const std::string& command, const Args& args);

// --s3-endpoint URL, for the commands that open s3:// URIs: the endpoint of
// an S3-compatible store. The same as setting AWS_ENDPOINT_URL, which it sets
// for this process once the flags are parsed.
// --assume-single-writer: skip the start-up check that the root's store
// honours conditional writes (CheckRootWrites).
struct StorageFlags {
  std::string s3_endpoint;
  bool assume_single_writer = false;
};
void AddStorageFlags(FlagSet& flags, StorageFlags* f);
void ApplyStorageFlags(const StorageFlags& f);

// For the writer commands (chunk, detect, run), before they take a lock:
// checks that `root`'s store honours create-only and replace-if-match writes
// (CheckConditionalWrites, retried on transient errors). NotSupported, one
// line naming the root, the missing behaviour and the way out, when it does
// not. With --assume-single-writer, logs one warning line and returns OK.
// `who` prefixes log lines ("x", "y").
Status CheckRootWrites(FileSystem* root, const StorageFlags& f,
                       const char* who);

// "s3 requests: N (GET a, HEAD b, PUT c, POST d, DELETE e, LIST f), retries
// r" for the requests this process sent; empty when it sent none.
std::string S3RequestSummary();

// Prints "txflow <command>: <message>" to stderr and returns kExitFailure.
int Fail(const std::string& command, const Status& status);

}  // namespace txflow

#endif  // TXFLOW_CLI_COMMANDS_H_
