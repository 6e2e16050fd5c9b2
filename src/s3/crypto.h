// The hashes S3 needs, on OpenSSL's libcrypto: SHA-256 and HMAC-SHA-256 for
// Signature Version 4, MD5 for ETags (S3's ETag of a single-part object is the
// hex MD5 of its bytes). Stateless; safe from any thread.
#ifndef TXFLOW_S3_CRYPTO_H_
#define TXFLOW_S3_CRYPTO_H_

#include <string>
#include <string_view>

namespace txflow::s3 {

// Raw digests (32, 32 and 16 bytes).
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Md5(std::string_view data);

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);

inline std::string Sha256Hex(std::string_view data) {
  return HexEncode(Sha256(data));
}

}  // namespace txflow::s3

#endif  // TXFLOW_S3_CRYPTO_H_
