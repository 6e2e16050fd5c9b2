#include "obs/monitor.h"

#include <cinttypes>
#include <cstdio>

#include "common/clock.h"
#include "common/log.h"

namespace txflow::obs {
namespace {

int64_t NowMs() { return SystemClock::Get()->NowMs(); }

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  return buf;
}

}  // namespace

Monitor::Monitor(MonitorOptions options)
    : o_(std::move(options)), notifier_(o_.notify) {
  Registry& r = Telemetry::Get().registry();
  r.AddCounterFunc(
      "txflow_alerts_total", "Alert deliveries (event x sink), by result.",
      [this] { return static_cast<double>(notifier_.delivered()); },
      {{"result", "delivered"}});
  r.AddCounterFunc("txflow_alerts_total",
                   "Alert deliveries (event x sink), by result.",
                   [this] { return static_cast<double>(notifier_.failed()); },
                   {{"result", "failed"}});
  r.AddCounterFunc("txflow_alerts_total",
                   "Alert deliveries (event x sink), by result.",
                   [this] { return static_cast<double>(notifier_.dropped()); },
                   {{"result", "dropped"}});
}

Monitor::~Monitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  server_.Stop();
}

Status Monitor::Start() {
  if (!o_.metrics_addr.empty()) {
    server_.Handle("/metrics", [] {
      return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8",
                       Telemetry::Get().registry().Render()};
    });
    server_.Handle("/healthz", [this] {
      const HealthVerdict v = Health();
      return HttpReply{v.ok ? 200 : 503, "text/plain; charset=utf-8", v.body};
    });
    if (Status s = server_.Start(o_.metrics_addr); !s.ok()) return s;
    LogInfo("metrics: serving /metrics and /healthz on port " +
            std::to_string(server_.port()) + " (" + o_.metrics_addr + ")");
  }
  watcher_ = std::thread([this] { Watch(); });
  return Status::OK();
}

std::chrono::milliseconds Monitor::Threshold(int m) const {
  return std::max(o_.stall_after, o_.min_stall[m]);
}

std::string Monitor::Trouble(int m, int64_t now_ms, bool* stalled) const {
  const MechanismState& st = Telemetry::Get().state(static_cast<Mechanism>(m));
  *stalled = false;
  if (std::string s = st.stopping(); !s.empty()) return "stopping: " + s;
  const std::string failing = st.failing();
  const int64_t idle = now_ms - st.last_progress_ms();
  if (idle >= Threshold(m).count() && (st.backlog() > 0 || !failing.empty())) {
    *stalled = true;
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "stalled: no progress for %s, backlog %.0f %s",
                  Seconds(idle).c_str(), st.backlog(),
                  m == 0 ? "source bytes" : "chunks");
    return buf + (failing.empty() ? "" : "; last error: " + failing);
  }
  if (!failing.empty()) return "failing: retrying after: " + failing;
  return "";
}

HealthVerdict Monitor::Health() const {
  HealthVerdict v;
  const int64_t now = NowMs();
  for (int m = 0; m < 2; ++m) {
    const MechanismState& st =
        Telemetry::Get().state(static_cast<Mechanism>(m));
    if (!st.running()) continue;
    bool stalled = false;
    std::string trouble = Trouble(m, now, &stalled);
    if (!trouble.empty()) v.ok = false;
    if (trouble.empty()) {
      trouble = (st.backlog() > 0 ? "progressing" : "ok") +
                std::string(", last progress ") +
                Seconds(now - st.last_progress_ms()) + " ago";
    }
    v.body += std::string(kMechanismNames[m]) + ": " + trouble + "\n";
  }
  return v;
}

void Monitor::Watch() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(200),
                       [&] { return stop_; })) {
    const int64_t now = NowMs();
    for (int m = 0; m < 2; ++m) {
      const MechanismState& st =
          Telemetry::Get().state(static_cast<Mechanism>(m));
      if (!st.running() || !st.stopping().empty()) continue;
      bool stalled = false;
      const std::string trouble = Trouble(m, now, &stalled);
      const int64_t progress = st.last_progress_ms();
      if (stalled && !alerted_[m]) {
        alerted_[m] = true;
        stalled_progress_[m] = progress;
        notifier_.Post({"stalled", kMechanismNames[m], o_.root,
                        trouble.substr(sizeof("stalled: ") - 1), progress});
      } else if (alerted_[m] && progress > stalled_progress_[m]) {
        alerted_[m] = false;
        notifier_.Post({"recovered", kMechanismNames[m], o_.root,
                        "progressing again after " +
                            Seconds(progress - stalled_progress_[m]) +
                            " without progress",
                        stalled_progress_[m]});
      }
    }
  }
}

void Monitor::Fatal(Mechanism m, const Status& status,
                    std::chrono::milliseconds max_wait) {
  MechanismState& st = Telemetry::Get().state(m);
  st.Stopping(status.ToString());
  notifier_.Post({"stopped", kMechanismNames[static_cast<int>(m)], o_.root,
                  status.ToString(), NowMs()});
  if (!notifier_.Drain(max_wait)) {
    LogInfo("alert: not delivered within " + Seconds(max_wait.count()) +
            "; exiting anyway");
  }
}

}  // namespace txflow::obs
