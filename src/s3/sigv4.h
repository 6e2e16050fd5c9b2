// AWS Signature Version 4 for S3 requests sent with an Authorization header.
//
// The caller supplies the request already in its wire form: the path
// URI-encoded (UriEncode with keep_slash), query parameters decoded (they are
// encoded and sorted here), and every header it wants signed. Signing the
// exact bytes that go on the wire is what keeps the signature valid; nothing
// here normalizes a path.
//
// Stateless; safe from any thread. The secret never leaves this file except
// inside an HMAC.
#ifndef TXFLOW_S3_SIGV4_H_
#define TXFLOW_S3_SIGV4_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txflow::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - _ . ~ stay,
// '/' stays when keep_slash, every other byte becomes %XX (upper-case hex).
std::string UriEncode(std::string_view text, bool keep_slash);

// The inverse of UriEncode ("%2F" -> "/", "+" stays '+'); a malformed escape
// is kept as it is.
std::string UriDecode(std::string_view text);

struct SigningInput {
  std::string method;          // "GET", "PUT", ...
  std::string canonical_path;  // encoded path, e.g. "/bucket/a/b%20c.csv"
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  // Lower-case names; values trimmed. Must include "host" and "x-amz-date"
  // and "x-amz-content-sha256" for S3.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // hex SHA-256 of the body (as sent in
                               // x-amz-content-sha256)
};

// The sorted, encoded query string ("a=1&b=%2F"); also what goes in the URL.
std::string CanonicalQueryString(
    std::vector<std::pair<std::string, std::string>> query);

std::string CanonicalRequest(const SigningInput& in);

// The value of the Authorization header. amz_date is "YYYYMMDDTHHMMSSZ" and
// must equal the x-amz-date header.
std::string Authorization(const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date,
                          const SigningInput& in);

}  // namespace txflow::s3

#endif  // TXFLOW_S3_SIGV4_H_
