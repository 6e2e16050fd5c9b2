// The sources of temporary credentials, in the order the AWS SDKs' default
// chain tries them after the environment's keys (s3_config.h decides which
// one applies, from variables and files only, without a network call):
//
//   web identity   AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//                  [+ AWS_ROLE_SESSION_NAME]: the token file is read at every
//                  fetch (Kubernetes rotates it) and sent, unsigned, in a
//                  form-encoded POST of STS AssumeRoleWithWebIdentity to
//                  AWS_ENDPOINT_URL_STS or https://sts.REGION.amazonaws.com;
//                  the answer is XML.
//   (profile keys and credential_process come next; see s3_config.h)
//   container      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
//                  http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI
//                  (https, or http to a loopback or the ECS/EKS agent
//                  address); Authorization header from the file
//                  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at every
//                  fetch) or AWS_CONTAINER_AUTHORIZATION_TOKEN; JSON answer.
//   instance       IMDSv2: PUT /latest/api/token, then GET
//   metadata       /latest/meta-data/iam/security-credentials/ (the role) and
//                  .../ROLE (JSON), on AWS_EC2_METADATA_SERVICE_ENDPOINT
//                  (default http://169.254.169.254) with a 1 s connect
//                  timeout and one attempt, so a machine without IMDS falls
//                  through at once. AWS_EC2_METADATA_DISABLED=true turns it
//                  off. No IMDSv1 fallback.
//   process        the profile's credential_process, run with /bin/sh -c;
//                  its standard output is the JSON of the AWS CLI's
//                  "Version": 1 contract; no Expiration means no expiry.
//
// Each Fetch* call does one fetch; RefreshingCredentialsProvider decides
// when. Errors name the variable, file or endpoint at fault and carry the
// source's error code and message, never a token, a secret or a response
// body or any value of a credentials answer. Transport failures, 429 and
// 5xx answers are Unavailable (the chunk and detect loops retry). At the
// instance metadata endpoint, the implicit last resort, a request that
// reaches no server (refused, unreachable, connect timeout) or a definite
// no (404 on the role list) means "no AWS credentials" (PermissionDenied);
// a server that answered 429/5xx or timed out is Unavailable like the
// others. Thread-safe: the fetchers keep no state.
#ifndef TXFLOW_S3_CREDENTIAL_SOURCES_H_
#define TXFLOW_S3_CREDENTIAL_SOURCES_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "s3/credentials_provider.h"
#include "s3/http_client.h"
#include "txflow/status.h"

namespace txflow::s3 {

struct CredentialSource {
  enum class Kind {
    kStatic,
    kWebIdentity,
    kContainer,
    kInstanceMetadata,
    kProcess
  };
  Kind kind = Kind::kStatic;
  // For messages: which variable or profile chose this source.
  std::string origin;
  // kWebIdentity
  std::string token_file, role_arn, session_name;
  // kWebIdentity: the STS endpoint; kContainer: the full URL;
  // kInstanceMetadata: the IMDS endpoint (scheme://host[:port]).
  std::string url;
  // kContainer: the Authorization value, or the file to read it from (the
  // file wins). The value is a secret: never put it in a message.
  std::string auth_token, auth_token_file;
  // kProcess: the command line. Not quoted in messages (it may carry
  // arguments its owner considers private).
  std::string command;
};

// Limits of every credentials request: each HTTP request (one of up to 3
// attempts at STS or the container endpoint) ends after kFetchTimeoutMs,
// each of the three IMDS requests after kImdsStepTimeoutMs, and an answer
// (or credential_process output) larger than kMaxAnswerBytes is refused.
constexpr int64_t kFetchTimeoutMs = 5000;
constexpr int64_t kImdsStepTimeoutMs = 2000;
constexpr size_t kMaxAnswerBytes = 64 << 10;

Result<TimedCredentials> FetchWebIdentity(const CredentialSource& s,
                                          HttpClient& http);
Result<TimedCredentials> FetchContainer(const CredentialSource& s,
                                        HttpClient& http);
Result<TimedCredentials> FetchInstanceMetadata(const CredentialSource& s,
                                               HttpClient& http);
// Runs the command with /bin/sh -c in its own process group; standard error
// passes through. Past `deadline`, or past kMaxAnswerBytes of output, the
// group is killed (SIGKILL) and the fetch is Unavailable.
constexpr std::chrono::milliseconds kProcessTimeout{60000};
Result<TimedCredentials> FetchProcess(
    const CredentialSource& s,
    std::chrono::milliseconds deadline = kProcessTimeout);

// "2030-01-01T00:00:00Z", with optional fractional seconds and a "+HH:MM"
// offset instead of Z. InvalidArgument otherwise.
Result<WallClock::time_point> ParseIso8601(std::string_view text);

// The HttpClient options the credential sources use (never the S3
// client's): the limits above, TLS roots from `ca_bundle`.
HttpOptions CredentialHttpOptions(const std::string& ca_bundle, bool imds);

// The provider for `source`: static `credentials` for kStatic, otherwise a
// RefreshingCredentialsProvider over the source's fetcher, with its own HTTP
// client (TLS roots from `ca_bundle`).
std::shared_ptr<CredentialsProvider> MakeCredentialsProvider(
    const CredentialSource& source, const Credentials& credentials,
    const std::string& ca_bundle);

}  // namespace txflow::s3

#endif  // TXFLOW_S3_CREDENTIAL_SOURCES_H_
