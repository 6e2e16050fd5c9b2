// A tiny HTTP/1.1 server for the metrics and health endpoints: GET requests
// to a fixed set of paths, one thread serving up to kMaxConnections at once
// with poll(), answer and close ("Connection: close").
//
// Limits, so that slow or hostile clients cannot hold the thread or delay
// another client's scrape: each connection has its own deadline; a request
// head larger than kMaxRequestBytes gets 431, one not complete within
// kRequestTimeout is dropped (408 if anything arrived); a new connection
// beyond kMaxConnections closes the oldest. A path not registered
// gets 404; a method other than GET or HEAD on a registered path gets 405
// with "Allow: GET, HEAD". A query string is ignored.
//
// Handlers run on the server's thread; they must be thread-safe with respect
// to the rest of the process. Start() returns once the socket is listening
// (so port() is the bound port, useful with port 0).
#ifndef TXFLOW_OBS_HTTP_SERVER_H_
#define TXFLOW_OBS_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "txflow/status.h"

namespace txflow::obs {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr std::chrono::milliseconds kRequestTimeout{2000};
  static constexpr size_t kMaxConnections = 32;

  HttpServer() = default;
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before Start() only.
  void Handle(const std::string& path, std::function<HttpReply()> handler);

  // Binds "HOST:PORT" (HOST a name or an IPv4/IPv6 literal, "[::1]:9100";
  // PORT 0 picks a free port) and starts the thread. InvalidArgument for a
  // malformed address, IOError (naming the address) when it cannot bind.
  Status Start(const std::string& addr);
  int port() const { return port_; }
  // Stops the thread and closes the socket; idempotent.
  void Stop();

 private:
  struct Conn {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    std::string head;  // the request as received so far
  };
  void Loop();
  // Reads what `revents` says is there and answers a complete request or
  // one past its limits; false when the connection is done (to be closed).
  bool Advance(Conn* c, short revents);
  HttpReply Route(const std::string& head, bool* head_only) const;

  std::map<std::string, std::function<HttpReply()>> handlers_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: Stop() writes to end the loop
  int port_ = 0;
  std::thread thread_;
};

// Splits "HOST:PORT" / "[V6]:PORT"; InvalidArgument when malformed.
Status SplitHostPort(const std::string& addr, std::string* host, int* port);

}  // namespace txflow::obs

#endif  // TXFLOW_OBS_HTTP_SERVER_H_
