#include "io/fault_injection_env.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "io/fault_injection_file_system.h"
#include "io/root_decorator.h"

namespace txflow {
namespace {

struct FaultSpec {
  double p = 0, after = 0, fatal = 0;
  uint64_t seed = 1, budget = 0;
};

Result<FaultSpec> ParseSpec(std::string_view spec) {
  FaultSpec out;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string item(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const std::string value =
        eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || v < 0) {
      return Status::InvalidArgument("TXFLOW_FAULT_INJECTION: bad item '" +
                                     item + "'");
    }
    if (name == "p") {
      out.p = v;
    } else if (name == "after") {
      out.after = v;
    } else if (name == "fatal") {
      out.fatal = v;
    } else if (name == "seed") {
      out.seed = static_cast<uint64_t>(v);
    } else if (name == "budget") {
      out.budget = static_cast<uint64_t>(v);
    } else {
      return Status::InvalidArgument("TXFLOW_FAULT_INJECTION: unknown item '" +
                                     item + "'");
    }
  }
  return out;
}

Result<std::unique_ptr<FileSystem>> InjectFaults(const FaultSpec& spec,
                                                 std::unique_ptr<FileSystem> fs,
                                                 std::string_view root_uri) {
  static std::once_flag warned;
  std::call_once(warned, [] {
    std::fputs(
        "txflow: TXFLOW_FAULT_INJECTION is set: storage calls fail on "
        "purpose (testing only)\n",
        stderr);
  });
  auto faulty = std::make_unique<FaultInjectionFileSystem>(std::move(fs));
  // Each root, and each opening of it, draws its own faults, reproducibly
  // for a given order of openings (reopening must not replay the same
  // faults: a retried load would then fail the same way every time).
  static std::atomic<uint64_t> openings{0};
  faulty->SetRandomFaults(spec.p,
                          spec.seed ^ std::hash<std::string_view>()(root_uri) ^
                              (++openings * 0x9E3779B97F4A7C15ull),
                          spec.after, spec.fatal);
  if (spec.budget > 0) faulty->SetWriteBudget(spec.budget);
  return std::unique_ptr<FileSystem>(std::move(faulty));
}

}  // namespace

Status InstallFaultInjection(std::string_view spec) {
  TXFLOW_ASSIGN_OR_RETURN(FaultSpec parsed, ParseSpec(spec));
  SetRootDecorator(
      [parsed](std::unique_ptr<FileSystem> fs, std::string_view root_uri) {
        return InjectFaults(parsed, std::move(fs), root_uri);
      });
  return Status::OK();
}

Status InstallFaultInjectionFromEnv() {
  const char* spec = std::getenv("TXFLOW_FAULT_INJECTION");
  if (spec == nullptr || *spec == '\0') return Status::OK();
  return InstallFaultInjection(spec);
}

}  // namespace txflow
