#include "s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace txflow::s3 {
namespace {

struct UploadState {
  std::string_view body;
  size_t sent = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t items, void* user) {
  auto* s = static_cast<UploadState*>(user);
  const size_t n = std::min(size * items, s->body.size() - s->sent);
  std::memcpy(buffer, s->body.data() + s->sent, n);
  s->sent += n;
  return n;
}

// curl rewinds the body when it resends a request on a fresh connection
// (a reused one turned out dead, or a redirect).
int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* s = static_cast<UploadState*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > s->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  s->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct BodySink {
  HttpResponse* response;
  size_t max;  // 0: no limit
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t items, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * items;
  if (sink->max != 0 && sink->response->body.size() + n > sink->max) {
    sink->too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t items, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * items);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
    line.remove_suffix(1);
  }
  // A new status line (after "100 Continue", or a redirect) starts over.
  if (line.rfind("HTTP/", 0) == 0) {
    r->headers.clear();
    return size * items;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * items;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  r->headers[name] = std::string(value);
  return size * items;
}

bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SEND_FAIL_REWIND:
      return true;
    default:
      return false;
  }
}

bool HasHeader(const HttpRequest& request, std::string_view lower_name) {
  for (const auto& h : request.headers) {
    if (h.size() > lower_name.size() && h[lower_name.size()] == ':' &&
        std::equal(lower_name.begin(), lower_name.end(), h.begin(),
                   [](char a, char b) {
                     return a == std::tolower(static_cast<unsigned char>(b));
                   })) {
      return true;
    }
  }
  return false;
}

std::once_flag global_init;

int AbortIfAsked(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Return(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request,
                                      bool* reached) {
  if (reached != nullptr) *reached = false;
  CURL* curl = static_cast<CURL*>(Borrow());
  if (curl == nullptr) {
    return Status::IOError(request.method + " " + request.url +
                           ": cannot create a curl handle");
  }
  // Reset keeps the handle's open connections, which is the point of the pool.
  curl_easy_reset(curl);
  HttpResponse response;
  UploadState upload{request.body, 0};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  // The signed path must go out exactly as signed.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(
                       std::max<int64_t>(1, options_.stall_timeout_ms / 1000)));
  if (options_.total_timeout_ms > 0) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(options_.total_timeout_ms));
  }
  if (options_.abort != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortIfAsked);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA,
                     const_cast<std::atomic<bool>*>(options_.abort));
  }
  BodySink sink{&response, options_.max_body_bytes};
  if (options_.max_body_bytes > 0) {
    // Refused before the body when the Content-Length says so.
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_body_bytes));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  // No "Expect: 100-continue" round trip, and no default content type that
  // nobody signed (a request that names its own type keeps it).
  headers = curl_slist_append(headers, "Expect:");
  if (!HasHeader(request, "content-type")) {
    headers = curl_slist_append(headers, "Content-Type:");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (reached != nullptr) {
    long request_size = 0;
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
    *reached = code == CURLE_OK || request_size > 0;
  }
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    Return(curl);
    return response;
  }
  // A handle whose transfer failed may hold a broken connection; drop it.
  curl_easy_cleanup(curl);
  if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return Status::IOError(request.method + " " + request.url +
                           ": answer larger than " +
                           std::to_string(options_.max_body_bytes) + " bytes");
  }
  const std::string why =
      request.method + " " + request.url + ": " + curl_easy_strerror(code) +
      (error[0] != 0 ? std::string(" (") + error + ")" : "");
  if (IsTransient(code)) return Status::Unavailable(why);
  if (code == CURLE_URL_MALFORMAT) return Status::InvalidArgument(why);
  return Status::IOError(why);
}

}  // namespace txflow::s3
