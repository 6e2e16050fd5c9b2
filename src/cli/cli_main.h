// The body of the txflow binary's main(), shared by `txflow` (main.cc) and the
// fault-injection test binary (fault_injection_main.cc).
#ifndef TXFLOW_CLI_CLI_MAIN_H_
#define TXFLOW_CLI_CLI_MAIN_H_

namespace txflow {

// Dispatches argv[1] to a subcommand; returns the exit code: 0 ok, 1 runtime
// failure, 2 usage error.
int Main(int argc, char** argv);

}  // namespace txflow

#endif  // TXFLOW_CLI_CLI_MAIN_H_
