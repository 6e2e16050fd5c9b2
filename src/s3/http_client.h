// A small HTTP/1.1 client on libcurl for the S3 client: one request in, one
// whole response out.
//
// Connections are reused: the client keeps a pool of curl easy handles (each
// with its own connection cache); a call borrows one, so concurrent calls from
// several threads each get their own handle. TLS peers are always verified.
//
// Errors: a transport failure (refused, reset, timeout, stalled, empty reply)
// is Unavailable, since the request may be repeated; a TLS verification
// failure or a malformed URL is fatal (IOError / InvalidArgument). An HTTP
// error status is not an error here: it is a response.
#ifndef TXFLOW_S3_HTTP_CLIENT_H_
#define TXFLOW_S3_HTTP_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/status.h"

namespace txflow::s3 {

struct HttpOptions {
  std::string ca_bundle;  // empty: system roots
  int64_t connect_timeout_ms = 5000;
  int64_t stall_timeout_ms = 30000;
  // The whole request, connect to last byte; 0: none (S3 transfers, whose
  // size has no bound, rely on the stall timeout). Exceeded: Unavailable.
  int64_t total_timeout_ms = 0;
  // The largest response body accepted; 0: any. Larger (by Content-Length
  // or as it arrives): IOError "answer larger than N bytes", and no more of
  // it is read.
  size_t max_body_bytes = 0;
  // When set and it becomes true, a request in flight is abandoned within
  // about a second (an IOError): lets an owner stop a thread that
  // is waiting on a slow server. Not owned; must outlive the client.
  const std::atomic<bool>* abort = nullptr;
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // not owned; must outlive Send()
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. The message of an error names the method and URL but no
  // header (headers carry the signature and the session token). If
  // `reached` is given it says whether the request got to a server (was
  // sent on a connection), so a caller can tell "nobody there" from a
  // server that failed.
  Result<HttpResponse> Send(const HttpRequest& request,
                            bool* reached = nullptr);

 private:
  void* Borrow();
  void Return(void* handle);

  HttpOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles, each with its own connections
};

}  // namespace txflow::s3

#endif  // TXFLOW_S3_HTTP_CLIENT_H_
