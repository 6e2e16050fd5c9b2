// Alerts: posts an event as JSON to webhooks (Slack-compatible: a `text`
// field plus structured fields) and pipes it to commands, from background
// threads, so a slow or dead receiver never blocks or stops the pipeline.
//
// Delivery: each sink has its own queue and thread, so a slow, dead or
// retrying sink never delays another. Events go to a sink one at a time, in
// order; an attempt that fails (transport error, HTTP 429 or 5xx, a command
// exiting non-zero or timing out) is retried with BackoffDelay up to
// max_attempts; other HTTP answers (4xx) are final. A webhook POST is bounded
// as a whole (http_timeout) and reads at most 64 KiB of answer. Each sink's
// queue is bounded: when full, the new event is dropped for that sink and
// counted. Secrets: a webhook URL carries one, so logs and counters name a
// sink only as "webhook #N (host)" / "command #N", never by URL or command
// line.
//
// Thread-safe. The destructor stops the threads without waiting for the
// queues (call Drain() first for the events that must go out): retries are
// abandoned, a command in flight is killed (its process group) and a webhook
// request in flight is aborted, so it returns within about a second.
#ifndef TXFLOW_OBS_NOTIFIER_H_
#define TXFLOW_OBS_NOTIFIER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace txflow::obs {

struct AlertEvent {
  std::string event;      // "stopped", "stalled", "recovered"
  std::string mechanism;  // "x", "y"
  std::string root;       // the root URI (never holds a secret)
  std::string reason;     // one line
  int64_t since_ms = 0;   // Unix ms when the condition began
};

struct NotifierOptions {
  std::vector<std::string> webhooks;  // URLs
  std::vector<std::string> commands;  // run via /bin/sh -c, JSON on stdin
  std::chrono::milliseconds command_timeout{10'000};
  std::chrono::milliseconds http_timeout{5'000};
  int max_attempts = 6;
  int64_t backoff_base_ms = 500, backoff_cap_ms = 10'000;
  size_t max_queue = 64;
  std::string host, version;
  int pid = 0;
};

// The JSON document of `e`: {"text": ..., "event", "mechanism", "root",
// "reason", "since" (ISO 8601 UTC), "host", "pid", "version"}.
std::string AlertJson(const AlertEvent& e, const NotifierOptions& o);
// "webhook #N (host)" for the N-th URL (1-based): the host only, never the
// path or query, which carry the secret.
std::string WebhookLabel(size_t index, const std::string& url);

class Notifier {
 public:
  explicit Notifier(NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  bool enabled() const;
  // Queues `e` for every sink; never blocks on delivery.
  void Post(AlertEvent e);
  // Waits until every queued event is delivered or given up, at most
  // `max_wait`; false if it timed out.
  bool Drain(std::chrono::milliseconds max_wait);

  uint64_t delivered() const;  // (event, sink) pairs delivered
  uint64_t failed() const;     // (event, sink) pairs given up
  uint64_t dropped() const;    // (event, sink) pairs dropped, queue full

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_NOTIFIER_H_
