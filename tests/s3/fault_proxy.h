// A misbehaving HTTP proxy for S3 fault tests: it sits between txflow and the
// S3 test server on loopback and, per request, at seeded random,
//   - answers 503 SlowDown itself (the request never reaches S3),
//   - drops the connection before forwarding (S3 never sees the request),
//   - forwards, then drops the connection instead of answering (S3 applied
//     the request; the client cannot know), or
//   - forwards, then sends only part of the answer and drops the connection.
// Everything else is forwarded unchanged; every request goes upstream on a
// fresh connection with "Connection: close", so the answer ends at EOF.
//
// Test tooling only. Thread-safe counters; one thread per client connection.
#ifndef TXFLOW_TESTS_S3_FAULT_PROXY_H_
#define TXFLOW_TESTS_S3_FAULT_PROXY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace txflow::testing {

struct FaultRates {
  double slow_down = 0;      // 503 without forwarding
  double drop_request = 0;   // close before forwarding
  double drop_response = 0;  // forward, then close without answering
  double truncate = 0;       // forward, answer half, close
};

class FaultProxy {
 public:
  struct Counts {
    std::atomic<uint64_t> requests{0}, slow_down{0}, drop_request{0},
        drop_response{0}, truncate{0};
  };

  FaultProxy(int upstream_port, FaultRates rates, uint64_t seed)
      : upstream_port_(upstream_port), rates_(rates), rng_(seed) {}
  ~FaultProxy() { Stop(); }

  // Listens on an ephemeral 127.0.0.1 port; returns it (0 on failure).
  int Start() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
            0 ||
        ::listen(listen_fd_, 64) != 0) {
      return 0;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return port_;
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }

  const Counts& counts() const { return counts_; }

 private:
  enum class Fate {
    kForward,
    kSlowDown,
    kDropRequest,
    kDropResponse,
    kTruncate
  };

  Fate Pick() {
    std::lock_guard<std::mutex> lock(mu_);
    const double x = std::uniform_real_distribution<double>(0, 1)(rng_);
    double edge = rates_.slow_down;
    if (x < edge) return Fate::kSlowDown;
    if (x < (edge += rates_.drop_request)) return Fate::kDropRequest;
    if (x < (edge += rates_.drop_response)) return Fate::kDropResponse;
    if (x < (edge += rates_.truncate)) return Fate::kTruncate;
    return Fate::kForward;
  }

  void AcceptLoop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd] {
        Serve(fd);
        ::close(fd);
      });
    }
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one request (head + Content-Length body) from `fd` into `head` and
  // `body`, keeping bytes of a next request in `pending`.
  static bool ReadRequest(int fd, std::string& pending, std::string& head,
                          std::string& body) {
    char buf[65536];
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      pending.append(buf, static_cast<size_t>(n));
    }
    head = pending.substr(0, end + 4);
    pending.erase(0, end + 4);
    size_t length = 0;
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    const size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
      length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
    }
    while (pending.size() < length) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      pending.append(buf, static_cast<size_t>(n));
    }
    body = pending.substr(0, length);
    pending.erase(0, length);
    return true;
  }

  // Sends the request upstream with "Connection: close"; returns the whole
  // answer (empty on failure).
  std::string Forward(const std::string& head, const std::string& body) {
    std::string out;
    std::string rewritten;
    size_t pos = 0;
    while (pos < head.size()) {
      const size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      if (line.empty()) break;
      std::string lower = line;
      for (char& c : lower) c = static_cast<char>(std::tolower(c));
      if (lower.rfind("connection:", 0) == 0) continue;
      rewritten += line + "\r\n";
    }
    rewritten += "Connection: close\r\n\r\n";
    const int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        SendAll(up, rewritten) && SendAll(up, body)) {
      char buf[65536];
      ssize_t n;
      while ((n = ::recv(up, buf, sizeof buf, 0)) > 0) {
        out.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(up);
    return out;
  }

  void Serve(int fd) {
    std::string pending, head, body;
    while (!stopping_ && ReadRequest(fd, pending, head, body)) {
      counts_.requests++;
      switch (Pick()) {
        case Fate::kSlowDown: {
          counts_.slow_down++;
          const std::string xml =
              "<Error><Code>SlowDown</Code><Message>Please reduce your "
              "request rate.</Message></Error>";
          if (!SendAll(fd,
                       "HTTP/1.1 503 Slow Down\r\nContent-Type: "
                       "application/xml\r\nContent-Length: " +
                           std::to_string(xml.size()) + "\r\n\r\n" + xml)) {
            return;
          }
          continue;
        }
        case Fate::kDropRequest:
          counts_.drop_request++;
          return;
        case Fate::kDropResponse:
          counts_.drop_response++;
          Forward(head, body);
          return;
        case Fate::kTruncate: {
          counts_.truncate++;
          const std::string answer = Forward(head, body);
          SendAll(fd, std::string_view(answer).substr(0, answer.size() / 2));
          return;
        }
        case Fate::kForward:
          SendAll(fd, Forward(head, body));
          // The upstream answer says "Connection: close"; so do we.
          return;
      }
    }
  }

  const int upstream_port_;
  const FaultRates rates_;
  std::mt19937_64 rng_;
  std::mutex mu_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  Counts counts_;
};

}  // namespace txflow::testing

#endif  // TXFLOW_TESTS_S3_FAULT_PROXY_H_
