#include "cli/signals.h"

#include <csignal>
#include <thread>

namespace txflow {
namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool StopRequested() { return g_stop != 0; }

void RequestStop() { g_stop = 1; }

bool SleepUnlessStopped(std::chrono::milliseconds d,
                        const std::function<bool()>& every_slice) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!StopRequested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - now, std::chrono::milliseconds(100)));
    if (every_slice && !every_slice()) return false;
  }
  return false;
}

}  // namespace txflow
