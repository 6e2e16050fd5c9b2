#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include "s3/crypto.h"

namespace txflow::s3 {
namespace {

// The example credentials and requests of the S3 API reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single
// Chunk" (sig-v4-header-based-auth.html); the expected values are AWS's.
const Credentials kExample{"AKIAIOSFODNN7EXAMPLE",
                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr char kEmptySha[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kDate[] = "20130524T000000Z";

TEST(Sha256, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha);
  // FIPS 180-2 example "abc".
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 1321 test suite.
  EXPECT_EQ(HexEncode(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Sha256, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4, GetObjectWithRangeMatchesAwsExample) {
  SigningInput in;
  in.method = "GET";
  in.canonical_path = "/test.txt";
  in.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                {"range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", kDate}};
  in.payload_sha256 = kEmptySha;
  EXPECT_EQ(Sha256Hex(CanonicalRequest(in)),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Authorization(kExample, "us-east-1", "s3", kDate, in),
            "AWS4-HMAC-SHA256 "
            "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-"
            "date,Signature="
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, ListObjectsSortsAndEncodesTheQuery) {
  SigningInput in;
  in.method = "GET";
  in.canonical_path = "/";
  // Given out of order: the signature must not depend on it.
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};
  in.headers = {{"x-amz-date", kDate},
                {"host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", kEmptySha}};
  in.payload_sha256 = kEmptySha;
  EXPECT_NE(CanonicalRequest(in).find("\nmax-keys=2&prefix=J\n"),
            std::string::npos);
  const std::string auth =
      Authorization(kExample, "us-east-1", "s3", kDate, in);
  EXPECT_EQ(auth.substr(auth.find("Signature=") + 10),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, PutObjectSignsPayloadAndExtraHeaders) {
  const std::string body = "Welcome to Amazon S3.";
  SigningInput in;
  in.method = "PUT";
  in.canonical_path = "/" + UriEncode("test$file.text", true);
  in.payload_sha256 = Sha256Hex(body);
  EXPECT_EQ(in.payload_sha256,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  in.headers = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", in.payload_sha256},
                {"x-amz-date", kDate},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  EXPECT_EQ(in.canonical_path, "/test%24file.text");
  const std::string auth =
      Authorization(kExample, "us-east-1", "s3", kDate, in);
  EXPECT_EQ(auth.substr(auth.find("Signature=") + 10),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, ChangingAnySignedPartChangesTheSignature) {
  SigningInput in;
  in.method = "PUT";
  in.canonical_path = "/b/k";
  in.headers = {{"host", "h"}, {"x-amz-date", kDate}};
  in.payload_sha256 = Sha256Hex("x");
  const std::string base = Authorization(kExample, "r", "s3", kDate, in);
  SigningInput other = in;
  other.payload_sha256 = Sha256Hex("y");
  EXPECT_NE(Authorization(kExample, "r", "s3", kDate, other), base);
  other = in;
  other.canonical_path = "/b/K";
  EXPECT_NE(Authorization(kExample, "r", "s3", kDate, other), base);
  EXPECT_NE(Authorization(kExample, "r2", "s3", kDate, in), base);
  Credentials wrong = kExample;
  wrong.secret_access_key.back() = 'X';
  EXPECT_NE(Authorization(wrong, "r", "s3", kDate, in), base);
  EXPECT_EQ(base.find(kExample.secret_access_key), std::string::npos);
}

TEST(UriEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UriEncode("aZ09-_.~", false), "aZ09-_.~");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("+=&?%", false), "%2B%3D%26%3F%25");
  // U+00FC is the two bytes C3 BC.
  EXPECT_EQ(UriEncode("\xC3\xBC", false), "%C3%BC");
}

TEST(UriEncode, DecodeInvertsEncodeOnEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(UriDecode(UriEncode(all, false)), all);
  EXPECT_EQ(UriDecode(UriEncode(all, true)), all);
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace txflow::s3
