// Health and alerts for one txflow process: serves GET /metrics and
// GET /healthz (--metrics-addr), watches each mechanism for a stall, and
// sends alerts (--notify-webhook, --notify-command) through a Notifier.
//
// A mechanism is
//   - stopping: it hit a fatal error (Fatal()); the process is exiting;
//   - stalled: no progress for its stall threshold while it has work (backlog
//     > 0) or its last step failed;
//   - failing: its last step failed and is being retried;
//   - ok: progressing, or idle with nothing to do.
// /healthz answers 200 when every mechanism of the process is ok, else 503;
// the body has one line per mechanism saying which and why.
//
// Alerts (docs/operations.md): "stalled" when a mechanism becomes stalled,
// "recovered" when it progresses again after a stalled alert, "stopped" on
// Fatal(). A failure retried away before the threshold sends nothing.
//
// One Monitor per process (it registers txflow_alerts_total in the process's
// registry, reading its own notifier), alive until the process's last scrape:
// the commands keep it until they return.
#ifndef TXFLOW_OBS_MONITOR_H_
#define TXFLOW_OBS_MONITOR_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "obs/http_server.h"
#include "obs/notifier.h"
#include "obs/telemetry.h"

namespace txflow::obs {

struct MonitorOptions {
  std::string metrics_addr;  // empty: no server
  NotifierOptions notify;
  std::chrono::milliseconds stall_after{std::chrono::minutes(5)};
  // Per mechanism, at least this (x: its linger plus its tick interval, so
  // a short chunk waiting out its linger is not a stall).
  std::array<std::chrono::milliseconds, 2> min_stall{};
  std::string root;  // for the alerts
};

struct HealthVerdict {
  bool ok = true;
  std::string body;  // one line per mechanism
};

class Monitor {
 public:
  explicit Monitor(MonitorOptions options);
  ~Monitor();  // stops the server and the watcher

  // Starts the server (logs the bound address) and the stall watcher.
  Status Start();
  int port() const { return server_.port(); }

  HealthVerdict Health() const;
  // Records a fatal stop of `m`, sends the "stopped" alert and waits for it
  // up to `max_wait`.
  void Fatal(Mechanism m, const Status& status,
             std::chrono::milliseconds max_wait = std::chrono::seconds(5));

 private:
  std::chrono::milliseconds Threshold(int m) const;
  // "stalled: ..." / "failing: ..." / "" for mechanism m.
  std::string Trouble(int m, int64_t now_ms, bool* stalled) const;
  void Watch();

  MonitorOptions o_;
  Notifier notifier_;
  HttpServer server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::array<bool, 2> alerted_{};  // a stalled alert is out
  std::array<int64_t, 2> stalled_progress_{};
  std::thread watcher_;
};

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_MONITOR_H_
