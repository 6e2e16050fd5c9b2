#include "cli/cli_main.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace txflow {
namespace {

constexpr const char* kUsage =
    "Usage: txflow <command> [flags]\n"
    "\n"
    "Cuts a growing transaction log into chunks and detects customer patterns "
    "in\n"
    "them, exactly once.\n"
    "\n"
    "Commands:\n"
    "  gen          generate a BankSim-shaped dataset\n"
    "  chunk, x     Mechanism X: cut the source into chunk files\n"
    "  detect, y    Mechanism Y: detect patterns in the chunks\n"
    "  run          run X and Y together on one root\n"
    "  status       report a root's positions, backlog and lag (read-only)\n"
    "  report       write an HTML report of a root\n"
    "  version      print the version\n"
    "\n"
    "Run 'txflow <command> --help' for the flags of a command.\n";

}  // namespace

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  const Args args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (command == "--version" || command == "version") return RunVersion(args);
  if (command == "gen") return RunGen(args);
  if (command == "chunk" || command == "x") return RunChunk(args);
  if (command == "detect" || command == "y") return RunDetect(args);
  if (command == "run") return RunPipeline(args);
  if (command == "status") return RunStatus(args);
  if (command == "report") return RunReport(args);
  std::fprintf(stderr, "txflow: unknown command '%s'\n%s", command.c_str(),
               kUsage);
  return kExitUsage;
}

}  // namespace txflow
