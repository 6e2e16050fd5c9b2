#include "obs/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace txflow::obs {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

using Clock = std::chrono::steady_clock;

int MsUntil(Clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now())
          .count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// The socket is non-blocking: a client that does not read its answer holds
// the thread until its deadline at most (an answer usually fits the socket's
// buffer, so this is rare).
void WriteAll(int fd, const std::string& data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, MsUntil(deadline)) <= 0) return;
      continue;
    }
    if (n <= 0) return;  // the client went away: nothing to do
    done += static_cast<size_t>(n);
  }
}

void SendReply(int fd, const HttpReply& r, bool head_only,
               Clock::time_point deadline) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    Reason(r.status) + "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n";
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
  WriteAll(fd, out, deadline);
}

HttpReply Plain(int status, std::string body) {
  return HttpReply{status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

Status SplitHostPort(const std::string& addr, std::string* host, int* port) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon + 1 == addr.size()) {
    return Status::InvalidArgument("--metrics-addr '" + addr +
                                   "': expected HOST:PORT");
  }
  *host = addr.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string digits = addr.substr(colon + 1);
  if (digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(digits) > 65535 || host->empty()) {
    return Status::InvalidArgument("--metrics-addr '" + addr +
                                   "': expected HOST:PORT, PORT 0-65535");
  }
  *port = std::stoi(digits);
  return Status::OK();
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path,
                        std::function<HttpReply()> handler) {
  handlers_[path] = std::move(handler);
}

Status HttpServer::Start(const std::string& addr) {
  std::string host;
  int port = 0;
  if (Status s = SplitHostPort(addr, &host, &port); !s.ok()) return s;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                             &found);
      rc != 0) {
    return Status::InvalidArgument("--metrics-addr '" + addr +
                                   "': " + ::gai_strerror(rc));
  }
  int err = 0;
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd >= 0 &&
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      listen_fd_ = fd;
      break;
    }
    err = errno;
    if (fd >= 0) ::close(fd);
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    return Status::IOError("--metrics-addr '" + addr +
                           "': cannot listen: " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::IOError("metrics server: pipe: " +
                           std::string(std::strerror(errno)));
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::OK();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    const char b = 0;
    const ssize_t ignored = ::write(wake_[1], &b, 1);
    (void)ignored;
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void HttpServer::Loop() {
  std::vector<Conn> conns;  // oldest first
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}});
    int timeout = -1;
    for (const Conn& c : conns) {
      fds.push_back({c.fd, POLLIN, 0});
      const int left = MsUntil(c.deadline);
      if (timeout < 0 || left < timeout) timeout = left;
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;
    size_t kept = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (Advance(&conns[i], fds[i + 2].revents)) {
        if (kept != i) conns[kept] = std::move(conns[i]);  // no self-move
        ++kept;
      } else {
        ::close(conns[i].fd);
      }
    }
    conns.resize(kept);
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of descriptors (EMFILE) leaves the connection queued and poll
      // ready: wait a little rather than spin.
      if (errno == EMFILE || errno == ENFILE) ::usleep(100'000);
      continue;
    }
    if (conns.size() >= kMaxConnections) {
      // Full: the oldest has had the longest to send its request.
      ::close(conns.front().fd);
      conns.erase(conns.begin());
    }
    conns.push_back({fd, Clock::now() + kRequestTimeout, {}});
  }
  for (const Conn& c : conns) ::close(c.fd);
}

bool HttpServer::Advance(Conn* c, short revents) {
  if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    char buf[2048];
    const ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    if (n > 0) c->head.append(buf, static_cast<size_t>(n));
    if (c->head.find("\r\n\r\n") != std::string::npos ||
        c->head.find("\n\n") != std::string::npos) {
      bool head_only = false;
      const HttpReply reply = Route(c->head, &head_only);
      SendReply(c->fd, reply, head_only, c->deadline);
      return false;
    }
    if (c->head.size() > kMaxRequestBytes) {
      SendReply(c->fd, Plain(431, "request too large\n"), false, c->deadline);
      return false;
    }
  }
  if (Clock::now() >= c->deadline) {
    if (!c->head.empty()) {
      SendReply(c->fd, Plain(408, "request timeout\n"), false,
                Clock::now() + std::chrono::milliseconds(100));
    }
    return false;
  }
  return true;
}

HttpReply HttpServer::Route(const std::string& head, bool* head_only) const {
  // Request line: METHOD SP TARGET SP VERSION.
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos ||
      line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    return Plain(400, "bad request\n");
  }
  const std::string method = line.substr(0, sp1);
  std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  auto it = handlers_.find(path);
  if (it == handlers_.end()) return Plain(404, "not found\n");
  if (method != "GET" && method != "HEAD") {
    return Plain(405, "method not allowed\n");
  }
  *head_only = method == "HEAD";
  return it->second();
}

}  // namespace txflow::obs
