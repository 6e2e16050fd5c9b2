// Where S3 is and who we are, resolved the way the AWS CLI and SDKs do it.
//
// Credentials, first source that applies wins (the SDKs' default chain):
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//      (+ AWS_ROLE_SESSION_NAME), STS at AWS_ENDPOINT_URL_STS or
//      https://sts.REGION.amazonaws.com (not AWS_ENDPOINT_URL, which names
//      the S3 endpoint here);
//   3. the profile AWS_PROFILE (default "default") in the credentials file
//      (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), then in the
//      config file (AWS_CONFIG_FILE, default ~/.aws/config, section
//      "[profile NAME]" or "[default]"): its keys, else its
//      credential_process;
//   4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
//   5. instance metadata (IMDSv2) at AWS_EC2_METADATA_SERVICE_ENDPOINT
//      (default http://169.254.169.254), unless AWS_EC2_METADATA_DISABLED is
//      true.
// Keys (1, 3) land in `credentials`; the other sources are described in
// `credential_source` and fetched, and refreshed before they expire, by the
// provider S3Client makes from it (credential_sources.h,
// credentials_provider.h). Choosing a source reads variables and files only;
// no request is sent here.
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, us-east-1.
// Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (the --s3-endpoint flag sets
// this one), the profile's `endpoint_url`, else
// https://s3.REGION.amazonaws.com. Addressing: path style for a custom
// endpoint, virtual-hosted for AWS (path style for bucket names with dots);
// TXFLOW_S3_ADDRESSING_STYLE=path|virtual or the profile's `s3 =
// addressing_style = ...` overrides. TLS: verified always; AWS_CA_BUNDLE names
// extra trusted roots. Tuning: TXFLOW_S3_MAX_ATTEMPTS,
// TXFLOW_S3_MULTIPART_THRESHOLD and TXFLOW_S3_PART_SIZE (bytes).
//
// Errors name the variable or file at fault and never contain a secret.
#ifndef TXFLOW_S3_S3_CONFIG_H_
#define TXFLOW_S3_S3_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "s3/credential_sources.h"
#include "s3/sigv4.h"
#include "txflow/status.h"

namespace txflow::s3 {

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or address, no port
  int port = 0;        // 0: the scheme's default
  // "host" or "host:port" exactly as the Host header carries it.
  std::string Authority() const;
};

// InvalidArgument unless `url` is http(s)://host[:port][/].
Result<Endpoint> ParseEndpoint(std::string_view url);

struct S3Config {
  Credentials credentials;  // static keys; used when the source is kStatic
  CredentialSource credential_source;
  std::string region = "us-east-1";
  Endpoint endpoint;
  bool path_style = true;
  std::string ca_bundle;  // empty: the system's roots
  // Retries (see s3_client.h): attempts per request, including the first.
  int max_attempts = 8;
  int64_t backoff_base_ms = 50;
  int64_t backoff_cap_ms = 4000;
  // Objects larger than this are uploaded in parts of part_size bytes.
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  // Keys per ListObjectsV2 page (S3's maximum is 1000).
  size_t list_page_size = 1000;
  int64_t connect_timeout_ms = 5000;
  // A transfer slower than 1 byte/s for this long is a timeout (retryable).
  int64_t stall_timeout_ms = 30000;
};

// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup ProcessEnv();

// Resolves the configuration for `bucket` (which decides virtual-hosted vs
// path style). PermissionDenied when no credentials source applies (only
// possible with AWS_EC2_METADATA_DISABLED=true); InvalidArgument for a
// malformed value, half a key pair or half a web identity, or a named profile
// that does not exist.
Result<S3Config> LoadS3Config(const EnvLookup& env, std::string_view bucket);

}  // namespace txflow::s3

#endif  // TXFLOW_S3_S3_CONFIG_H_
