#include "s3/s3_client.h"

#include <chrono>
#include <ctime>
#include <thread>

#include "common/backoff.h"
#include "s3/crypto.h"
#include "s3/sigv4.h"
#include "s3/xml.h"

namespace txflow::s3 {
namespace {

struct AtomicCounts {
  std::atomic<uint64_t> get{0}, head{0}, put{0}, post{0}, del{0}, list{0},
      retries{0};
};
AtomicCounts g_counts;

void Count(const S3Request& r) {
  if (r.method == "GET") {
    bool list = false;
    for (const auto& [k, v] : r.query) list |= k == "list-type";
    (list ? g_counts.list : g_counts.get)++;
  } else if (r.method == "HEAD") {
    g_counts.head++;
  } else if (r.method == "PUT") {
    g_counts.put++;
  } else if (r.method == "POST") {
    g_counts.post++;
  } else if (r.method == "DELETE") {
    g_counts.del++;
  }
}

std::string AmzDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool RetryableStatus(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504;
}

// The server refused the credentials themselves (unknown, expired), so fresh
// ones may succeed. A HEAD answer has no body to say why: any 403 counts.
bool CredentialsRefused(const S3Request& request, const S3Response& r) {
  if (r.status != 400 && r.status != 403) return false;
  if (request.method == "HEAD") return r.status == 403;
  return r.error_code == "ExpiredToken" ||
         r.error_code == "InvalidAccessKeyId" ||
         r.error_code == "InvalidToken" ||
         r.error_code == "TokenRefreshRequired";
}

}  // namespace

S3RequestCounts GlobalS3RequestCounts() {
  S3RequestCounts c;
  c.get = g_counts.get;
  c.head = g_counts.head;
  c.put = g_counts.put;
  c.post = g_counts.post;
  c.del = g_counts.del;
  c.list = g_counts.list;
  c.retries = g_counts.retries;
  return c;
}

std::string S3Response::Describe() const {
  std::string out = std::to_string(status);
  if (!error_code.empty()) out += " " + error_code;
  if (!error_message.empty()) out += ": " + error_message;
  return out;
}

S3Client::S3Client(S3Config config, std::string bucket)
    : S3Client(config, std::move(bucket),
               MakeCredentialsProvider(config.credential_source,
                                       config.credentials, config.ca_bundle)) {}

S3Client::S3Client(S3Config config, std::string bucket,
                   std::shared_ptr<CredentialsProvider> credentials)
    : config_(std::move(config)),
      bucket_(std::move(bucket)),
      credentials_(std::move(credentials)),
      http_(HttpOptions{config_.ca_bundle, config_.connect_timeout_ms,
                        config_.stall_timeout_ms}) {}

HttpRequest S3Client::Sign(const S3Request& request,
                           const std::string& payload_hash,
                           const std::string& amz_date,
                           const Credentials& credentials) const {
  std::string host = config_.endpoint.Authority();
  std::string path = "/";
  if (config_.path_style) {
    path += bucket_;
    if (!request.key.empty()) path += "/";
  } else {
    host = bucket_ + "." + host;
  }
  path += UriEncode(request.key, /*keep_slash=*/true);

  SigningInput in;
  in.method = request.method;
  in.canonical_path = path;
  in.query = request.query;
  in.headers = request.headers;
  in.headers.emplace_back("host", host);
  in.headers.emplace_back("x-amz-content-sha256", payload_hash);
  in.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    in.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  in.payload_sha256 = payload_hash;

  HttpRequest http;
  http.method = request.method;
  http.url = config_.endpoint.scheme + "://" + host + path;
  const std::string query = CanonicalQueryString(request.query);
  if (!query.empty()) http.url += "?" + query;
  for (const auto& [name, value] : in.headers) {
    http.headers.push_back(name + ": " + value);
  }
  http.headers.push_back("Authorization: " + Authorization(credentials,
                                                           config_.region, "s3",
                                                           amz_date, in));
  http.body = request.body;
  return http;
}

Result<S3Response> S3Client::SendSigned(const S3Request& request,
                                        const std::string& payload_hash,
                                        const Credentials& credentials) {
  Count(request);
  TXFLOW_ASSIGN_OR_RETURN(
      HttpResponse sent,
      http_.Send(Sign(request, payload_hash, AmzDate(), credentials)));
  S3Response r;
  r.status = sent.status;
  r.headers = std::move(sent.headers);
  r.body = std::move(sent.body);
  if (r.status >= 300) {
    r.error_code = XmlText(r.body, "Code").value_or("");
    r.error_message = XmlText(r.body, "Message").value_or("");
  }
  return r;
}

Result<S3Response> S3Client::Attempt(const S3Request& request,
                                     const std::string& payload_hash) {
  TXFLOW_ASSIGN_OR_RETURN(Credentials creds, credentials_->Get());
  TXFLOW_ASSIGN_OR_RETURN(S3Response r,
                          SendSigned(request, payload_hash, creds));
  if (!CredentialsRefused(request, r) || !credentials_->Invalidate(creds)) {
    return r;
  }
  g_counts.retries++;
  TXFLOW_ASSIGN_OR_RETURN(creds, credentials_->Get());
  return SendSigned(request, payload_hash, creds);
}

Result<S3Response> S3Client::Execute(const S3Request& request,
                                     std::string_view what) {
  const std::string payload_hash = Sha256Hex(request.body);
  Status last;
  for (int attempt = 0; attempt < config_.max_attempts; ++attempt) {
    if (attempt > 0) {
      g_counts.retries++;
      std::this_thread::sleep_for(BackoffDelay(attempt, config_.backoff_base_ms,
                                               config_.backoff_cap_ms));
    }
    auto sent = Attempt(request, payload_hash);
    if (!sent.ok()) {
      last = sent.status();
      if (last.code() == StatusCode::kUnavailable) continue;
      return last.WithContext(what);
    }
    sent->attempts = attempt + 1;
    if (!RetryableStatus(sent->status)) return sent;
    last = Status::Unavailable(request.method + " " + sent->Describe());
  }
  return Status::Unavailable(
      std::string(what) + ": " + last.message() + " (gave up after " +
      std::to_string(config_.max_attempts) + " attempts)");
}

}  // namespace txflow::s3
