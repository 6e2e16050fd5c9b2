#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "common/clock.h"

namespace txflow {
namespace {

std::atomic<bool> g_quiet{false};

}  // namespace

void SetLogQuiet(bool quiet) { g_quiet = quiet; }

void LogInfo(std::string_view message) {
  if (g_quiet) return;
  std::string line = FormatUtcMs(SystemClock::Get()->NowMs());
  line += ' ';
  line += message;
  line += '\n';
  const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace txflow
