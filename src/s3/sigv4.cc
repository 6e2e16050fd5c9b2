#include "s3/sigv4.h"

#include <algorithm>

#include "s3/crypto.h"

namespace txflow::s3 {

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                            c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
        hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string CanonicalQueryString(
    std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = UriEncode(k, false);
    v = UriEncode(v, false);
  }
  // Sorted by encoded name, then value (SigV4 sorts the encoded pairs).
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

namespace {

std::string SignedHeaderNames(
    const std::vector<std::pair<std::string, std::string>>& sorted) {
  std::string out;
  for (const auto& [name, value] : sorted) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SortedHeaders(
    const SigningInput& in) {
  auto headers = in.headers;
  std::sort(headers.begin(), headers.end());
  return headers;
}

}  // namespace

std::string CanonicalRequest(const SigningInput& in) {
  const auto headers = SortedHeaders(in);
  std::string out = in.method + "\n" + in.canonical_path + "\n" +
                    CanonicalQueryString(in.query) + "\n";
  for (const auto& [name, value] : headers) {
    out += name + ":" + value + "\n";
  }
  out += "\n" + SignedHeaderNames(headers) + "\n" + in.payload_sha256;
  return out;
}

std::string Authorization(const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date,
                          const SigningInput& in) {
  const std::string date(amz_date.substr(0, 8));
  const std::string scope = date + "/" + std::string(region) + "/" +
                            std::string(service) + "/aws4_request";
  const std::string string_to_sign = "AWS4-HMAC-SHA256\n" +
                                     std::string(amz_date) + "\n" + scope +
                                     "\n" + Sha256Hex(CanonicalRequest(in));
  std::string key = HmacSha256("AWS4" + creds.secret_access_key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HexEncode(HmacSha256(key, string_to_sign));
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
         ",SignedHeaders=" + SignedHeaderNames(SortedHeaders(in)) +
         ",Signature=" + signature;
}

}  // namespace txflow::s3
