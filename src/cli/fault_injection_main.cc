// txflow_fault_injection: the txflow binary plus TXFLOW_FAULT_INJECTION, for
// the reliability tests (docs/reliability.md). Built only with
// TXFLOW_BUILD_TESTS; the same commands, the same code, with every root the
// process opens wrapped in a FaultInjectionFileSystem when the variable is set.
#include <cstdio>

#include "cli/cli_main.h"
#include "cli/commands.h"
#include "io/fault_injection_env.h"

int main(int argc, char** argv) {
  const txflow::Status status = txflow::InstallFaultInjectionFromEnv();
  if (!status.ok()) {
    std::fprintf(stderr, "txflow: %s\n", status.ToString().c_str());
    return txflow::kExitFailure;
  }
  return txflow::Main(argc, argv);
}
