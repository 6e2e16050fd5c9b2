#include "obs/notifier.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "s3/http_client.h"

namespace txflow::obs {
namespace {

// The outcome of one attempt at one sink.
enum class Outcome { kDelivered, kRetry, kGiveUp };

}  // namespace

std::string AlertJson(const AlertEvent& e, const NotifierOptions& o) {
  const std::string text = "txflow " + e.mechanism + " " + e.event + " on " +
                           o.host + " (" + e.root + "): " + e.reason;
  std::string out = "{\"text\":";
  out += JsonString(text);
  for (const auto& [k, v] :
       {std::pair<const char*, const std::string*>{"event", &e.event},
        {"mechanism", &e.mechanism},
        {"root", &e.root},
        {"reason", &e.reason},
        {"host", &o.host},
        {"version", &o.version}}) {
    out += ",\"";
    out += k;
    out += "\":";
    out += JsonString(*v);
  }
  out += ",\"since\":";
  out += JsonString(FormatUtcMs(e.since_ms));
  out += ",\"pid\":" + std::to_string(o.pid) + "}";
  return out;
}

std::string WebhookLabel(size_t index, const std::string& url) {
  std::string host;
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    host = url.substr(scheme + 3);
    host = host.substr(0, host.find_first_of("/?#"));
    // user:password@host keeps only host.
    if (const size_t at = host.rfind('@'); at != std::string::npos) {
      host = host.substr(at + 1);
    }
  }
  return "webhook #" + std::to_string(index + 1) +
         (host.empty() ? "" : " (" + host + ")");
}

// One sink's queue and thread: a sink that is slow, dead or retrying never
// holds back another.
struct Sink {
  size_t index = 0;
  std::deque<std::string> queue;  // JSON documents
  bool busy = false;              // the thread holds an event
  std::thread thread;
};

struct Notifier::Impl {
  NotifierOptions o;
  std::mutex mu;
  std::condition_variable cv;
  // Set at destruction: retries are abandoned, a command in flight is killed
  // and an HTTP request in flight is aborted (through the HttpOptions hook).
  std::atomic<bool> stop{false};
  s3::HttpClient http;
  std::vector<std::unique_ptr<Sink>> sinks;
  std::atomic<uint64_t> delivered{0}, failed{0}, dropped{0};

  explicit Impl(NotifierOptions options)
      : o(std::move(options)),
        // A receiver that trickles its answer must not hold a thread forever:
        // the whole request is bounded, and so is the answer we read.
        http(s3::HttpOptions{"", o.http_timeout.count(), o.http_timeout.count(),
                             o.http_timeout.count(), kMaxAnswerBytes, &stop}) {
    for (size_t i = 0; i < o.webhooks.size() + o.commands.size(); ++i) {
      sinks.push_back(std::make_unique<Sink>());
      sinks.back()->index = i;
    }
  }

  static constexpr size_t kMaxAnswerBytes = 64 * 1024;

  Outcome PostWebhook(const std::string& url, const std::string& json,
                      const std::string& label) {
    s3::HttpRequest req{"POST", url, {"Content-Type: application/json"}, json};
    auto r = http.Send(req);
    if (!r.ok()) {
      // The error names the URL: only the label goes to the log.
      LogInfo("alert: " + label + ": not reachable");
      return Outcome::kRetry;
    }
    if (r->status >= 200 && r->status < 300) return Outcome::kDelivered;
    LogInfo("alert: " + label + ": HTTP " + std::to_string(r->status));
    return r->status == 429 || r->status >= 500 ? Outcome::kRetry
                                                : Outcome::kGiveUp;
  }

  Outcome RunCommand(const std::string& cmd, const std::string& json,
                     const std::string& label) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return Outcome::kRetry;
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(in[0]);
      ::close(in[1]);
      return Outcome::kRetry;
    }
    if (pid == 0) {
      ::setpgid(0, 0);  // its own group: a timeout kills the whole pipeline
      ::dup2(in[0], STDIN_FILENO);
      // Its output would corrupt txflow's own stdout and (JSON) log lines.
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    for (size_t done = 0; done < json.size();) {
      const ssize_t n = ::write(in[1], json.data() + done, json.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(in[1]);
    const auto deadline = std::chrono::steady_clock::now() + o.command_timeout;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      const bool stopping = stop.load();
      if (stopping || std::chrono::steady_clock::now() >= deadline) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        LogInfo("alert: " + label +
                (stopping ? ": killed, exiting" : ": timed out"));
        return Outcome::kRetry;
      }
      ::usleep(10'000);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      return Outcome::kDelivered;
    }
    LogInfo("alert: " + label + ": exit status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    return Outcome::kRetry;
  }

  std::string Label(size_t i) const {
    return i < o.webhooks.size()
               ? WebhookLabel(i, o.webhooks[i])
               : "command #" + std::to_string(i - o.webhooks.size() + 1);
  }

  Outcome Attempt(size_t i, const std::string& json) {
    return i < o.webhooks.size()
               ? PostWebhook(o.webhooks[i], json, Label(i))
               : RunCommand(o.commands[i - o.webhooks.size()], json, Label(i));
  }

  // Sends `json` to sink `i`, retrying after a backoff; gives up at stop.
  void Deliver(size_t i, const std::string& json) {
    for (int attempt = 0;; ++attempt) {
      const Outcome r = Attempt(i, json);
      if (r == Outcome::kDelivered) {
        delivered++;
        return;
      }
      if (r == Outcome::kGiveUp || attempt + 1 == o.max_attempts) {
        failed++;
        LogInfo("alert: " + Label(i) + ": gave up");
        return;
      }
      std::unique_lock lock(mu);
      if (cv.wait_for(
              lock, BackoffDelay(attempt, o.backoff_base_ms, o.backoff_cap_ms),
              [&] { return stop.load(); })) {
        failed++;
        return;
      }
    }
  }

  void Loop(Sink* sink) {
    // A command that exits without reading stdin must not kill the process:
    // SIGPIPE is blocked on this thread only, so the write fails with EPIPE.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop.load() || !sink->queue.empty(); });
      if (stop) return;
      std::string json = std::move(sink->queue.front());
      sink->queue.pop_front();
      sink->busy = true;
      lock.unlock();
      Deliver(sink->index, json);
      lock.lock();
      sink->busy = false;
      cv.notify_all();
    }
  }
};

Notifier::Notifier(NotifierOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  for (auto& sink : impl_->sinks) {
    sink->thread = std::thread([this, s = sink.get()] { impl_->Loop(s); });
  }
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  for (auto& sink : impl_->sinks) {
    if (sink->thread.joinable()) sink->thread.join();
  }
}

bool Notifier::enabled() const {
  return !impl_->o.webhooks.empty() || !impl_->o.commands.empty();
}

void Notifier::Post(AlertEvent e) {
  if (!enabled()) return;
  const std::string json = AlertJson(e, impl_->o);
  LogInfo("alert: " + e.mechanism + " " + e.event + ": " + e.reason);
  std::lock_guard lock(impl_->mu);
  for (auto& sink : impl_->sinks) {
    if (sink->queue.size() >= impl_->o.max_queue) {
      impl_->dropped++;
    } else {
      sink->queue.push_back(json);
    }
  }
  impl_->cv.notify_all();
}

bool Notifier::Drain(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, max_wait, [&] {
    for (const auto& sink : impl_->sinks) {
      if (!sink->queue.empty() || sink->busy) return false;
    }
    return true;
  });
}

uint64_t Notifier::delivered() const { return impl_->delivered; }
uint64_t Notifier::failed() const { return impl_->failed; }
uint64_t Notifier::dropped() const { return impl_->dropped; }

}  // namespace txflow::obs
