// txflow: the command-line entry point (cli_main.cc). Never installs a root
// decorator: the released binary does not read TXFLOW_FAULT_INJECTION.
#include "cli/cli_main.h"

int main(int argc, char** argv) { return txflow::Main(argc, argv); }
