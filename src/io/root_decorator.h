// A process-wide hook around OpenFileSystem: when set, every root the process
// opens is passed through it (e.g. wrapped in a FaultInjectionFileSystem).
// Empty by default, and nothing in the txflow binary sets it: only the
// fault-injection test binary does (io/fault_injection_env.h).
#ifndef TXFLOW_IO_ROOT_DECORATOR_H_
#define TXFLOW_IO_ROOT_DECORATOR_H_

#include <functional>
#include <memory>
#include <string_view>

#include "txflow/file_system.h"

namespace txflow {

// Takes the opened backend of `root_uri` and returns what OpenFileSystem
// hands out instead (or an error, which OpenFileSystem returns).
using RootDecorator = std::function<Result<std::unique_ptr<FileSystem>>(
    std::unique_ptr<FileSystem> fs, std::string_view root_uri)>;

// Installs `decorator` (empty: none). Not synchronised with OpenFileSystem:
// call it at startup, before any thread opens a root.
void SetRootDecorator(RootDecorator decorator);

}  // namespace txflow

#endif  // TXFLOW_IO_ROOT_DECORATOR_H_
