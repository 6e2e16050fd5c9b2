// Commands whose mechanisms have not landed yet. They say so and exit 2; none
// pretends to succeed.
#include <cstdio>

#include "cli/commands.h"

namespace txflow {
namespace {

int NotImplemented(const std::string& command, const std::string& summary,
                   const Args& args) {
  FlagSet flags("txflow " + command, summary + "\n\nNot implemented yet.");
  Status s = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return kExitOk;
  }
  (void)s;
  std::fprintf(stderr, "txflow %s: not implemented yet\n", command.c_str());
  return kExitUsage;
}

}  // namespace

int RunDetect(const Args& args) {
  return NotImplemented("detect",
                        "Mechanism Y: detects patterns in the chunks.", args);
}

int RunPipeline(const Args& args) {
  return NotImplemented("run", "Runs Mechanisms X and Y together on one root.",
                        args);
}

}  // namespace txflow
