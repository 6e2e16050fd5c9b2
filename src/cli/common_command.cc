#include <cstdio>

#include "cli/commands.h"

#ifndef TXFLOW_VERSION
#define TXFLOW_VERSION "unknown"
#endif

namespace txflow {

int ParseOrExit(FlagSet& flags, const std::string& command, const Args& args) {
  Status s = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "txflow %s: %s\nRun 'txflow %s --help' for usage.\n",
                 command.c_str(), s.message().c_str(), command.c_str());
    return kExitUsage;
  }
  return -1;
}

int Fail(const std::string& command, const Status& status) {
  std::fprintf(stderr, "txflow %s: %s\n", command.c_str(),
               status.ToString().c_str());
  return kExitFailure;
}

int RunVersion(const Args& args) {
  FlagSet flags("txflow version", "Prints the version of this txflow binary.");
  if (int rc = ParseOrExit(flags, "version", args); rc >= 0) return rc;
  std::printf("txflow %s\n", TXFLOW_VERSION);
  return kExitOk;
}

}  // namespace txflow
