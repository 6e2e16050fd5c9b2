// The subcommands of the txflow binary. Each takes the arguments after its
// name and returns the process exit code.
#ifndef TXFLOW_CLI_COMMANDS_H_
#define TXFLOW_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/flags.h"

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

// Parses `args` into `flags`. Returns -1 to go on, or the exit code to return
// now (help printed: 0; usage error printed: 2).
int ParseOrExit(FlagSet& flags, const std::string& command, const Args& args);

// Prints "txflow <command>: <message>" to stderr and returns kExitFailure.
int Fail(const std::string& command, const Status& status);

}  // namespace txflow

#endif  // TXFLOW_CLI_COMMANDS_H_
