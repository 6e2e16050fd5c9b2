// TXFLOW_FAULT_INJECTION for the fault-injection test binary (testing only;
// docs/reliability.md). Linked only into `txflow_fault_injection`, which the
// build makes only with TXFLOW_BUILD_TESTS: the txflow binary never reads the
// variable.
#ifndef TXFLOW_IO_FAULT_INJECTION_ENV_H_
#define TXFLOW_IO_FAULT_INJECTION_ENV_H_

#include <string_view>

#include "txflow/status.h"

namespace txflow {

// If TXFLOW_FAULT_INJECTION is set and not empty, e.g.
// "p=0.05,seed=7,after=0.3,fatal=0.1,budget=1000000", installs a root
// decorator (io/root_decorator.h) that wraps every root the process opens in
// a FaultInjectionFileSystem with those settings, seeded per root and per
// opening. InvalidArgument (naming the variable) for a malformed value.
Status InstallFaultInjectionFromEnv();

// The same for an explicit spec (what the variable holds).
Status InstallFaultInjection(std::string_view spec);

}  // namespace txflow

#endif  // TXFLOW_IO_FAULT_INJECTION_ENV_H_
