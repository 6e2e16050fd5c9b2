// SIGINT / SIGTERM request a graceful stop: long-running commands finish the
// current step, release their locks and exit 0.
#ifndef TXFLOW_CLI_SIGNALS_H_
#define TXFLOW_CLI_SIGNALS_H_

#include <chrono>
#include <functional>

namespace txflow {

void InstallStopHandlers();
bool StopRequested();
// Asks every loop to stop, as a signal would.
void RequestStop();

// Sleeps up to `d` in slices of at most 100 ms. Returns false early on a stop
// request or when `every_slice` (run after each slice, e.g. lock renewal)
// returns false; true when the full time passed.
bool SleepUnlessStopped(std::chrono::milliseconds d,
                        const std::function<bool()>& every_slice = nullptr);

}  // namespace txflow

#endif  // TXFLOW_CLI_SIGNALS_H_
