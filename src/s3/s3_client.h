// Signed S3 REST requests against one bucket, with retries.
//
// Execute() signs each attempt afresh (SigV4, the real payload SHA-256 in
// x-amz-content-sha256, so the server checks the body too) and retries with
// exponential backoff and jitter (BackoffDelay) on transport errors (refused,
// reset, timeout, empty reply) and on HTTP 408, 429, 500, 502, 503 and 504, up
// to config.max_attempts attempts in all; after that the call is Unavailable.
// Any other status, 4xx included, is returned as a response for the caller to
// interpret. A response's `attempts` > 1 tells the caller that an earlier
// attempt may have taken effect even though its answer was lost (see
// S3FileSystem for how writes resolve that).
//
// Credentials: each attempt asks the CredentialsProvider for the current
// credentials (refreshed before they expire, credentials_provider.h). An
// answer that says they were refused as unknown or expired (400/403
// ExpiredToken, InvalidAccessKeyId, InvalidToken, or a 403 HEAD, which has
// no body) makes the provider fetch afresh and the attempt is repeated once
// at once with the new credentials.
//
// Thread-safe: one S3Client may serve every thread; connections are pooled.
#ifndef TXFLOW_S3_S3_CLIENT_H_
#define TXFLOW_S3_S3_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3/credentials_provider.h"
#include "s3/http_client.h"
#include "s3/s3_config.h"
#include "txflow/status.h"

namespace txflow::s3 {

struct S3Request {
  std::string method;
  std::string key;  // object key within the bucket; empty for the bucket
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case
  std::string_view body;                                     // not owned
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int attempts = 1;
  // From an <Error> body, when there is one.
  std::string error_code;
  std::string error_message;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // "403 SignatureDoesNotMatch: The request signature ..." for messages.
  std::string Describe() const;
};

// Requests sent by every S3Client of the process, by kind, for the cost
// report; `retries` counts attempts after the first.
struct S3RequestCounts {
  uint64_t get = 0, head = 0, put = 0, post = 0, del = 0, list = 0, retries = 0;
  uint64_t Total() const { return get + head + put + post + del + list; }
};
S3RequestCounts GlobalS3RequestCounts();

class S3Client {
 public:
  // Credentials from MakeCredentialsProvider(config).
  S3Client(S3Config config, std::string bucket);
  // Credentials from `credentials` (tests; a provider shared by clients).
  S3Client(S3Config config, std::string bucket,
           std::shared_ptr<CredentialsProvider> credentials);

  const S3Config& config() const { return config_; }
  const std::string& bucket() const { return bucket_; }

  // See the file comment. `what` names the object in error messages.
  Result<S3Response> Execute(const S3Request& request, std::string_view what);

 private:
  // The URL to send and the signed headers for one attempt.
  HttpRequest Sign(const S3Request& request, const std::string& payload_hash,
                   const std::string& amz_date,
                   const Credentials& credentials) const;
  // One attempt with the provider's credentials; repeated once with fresh
  // ones when the server refused them.
  Result<S3Response> Attempt(const S3Request& request,
                             const std::string& payload_hash);
  Result<S3Response> SendSigned(const S3Request& request,
                                const std::string& payload_hash,
                                const Credentials& credentials);

  S3Config config_;
  std::string bucket_;
  std::shared_ptr<CredentialsProvider> credentials_;
  HttpClient http_;
};

}  // namespace txflow::s3

#endif  // TXFLOW_S3_S3_CLIENT_H_
