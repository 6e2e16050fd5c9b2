// Test support: where a test's storage lives. Linked only into tests.
//
// A storage-neutral test names its roots with TestRoot("store/root"). Normally
// that is "mem://store/root"; when the test binary runs with
// TXFLOW_TEST_STORAGE=s3 (ctest registers such binaries a second time, with
// the prefix "s3."), it is "s3://txflow-test/<run>/store/root" on the
// versitygw server that the s3_server ctest fixture started, <run> being
// unique to the process so that parallel tests never share objects.
#ifndef TXFLOW_TESTING_TEST_STORAGE_H_
#define TXFLOW_TESTING_TEST_STORAGE_H_

#include <string>
#include <string_view>

namespace txflow::testing {

inline constexpr char kS3TestBucket[] = "txflow-test";

// True when TXFLOW_TEST_STORAGE=s3.
bool UsingS3();

// See the file comment.
std::string TestRoot(std::string_view name);

// A fresh "s3://txflow-test/<run>/<name>" whatever TXFLOW_TEST_STORAGE says.
std::string S3TestRoot(std::string_view name);

// Points this process and its children at the test server at `url` (a
// test server's endpoint): AWS_ENDPOINT_URL, the fixed test credentials and
// the region; no session token or profile.
void UseS3Endpoint(const std::string& url);

// Points this process and its children at the fixture's server: exports
// AWS_ENDPOINT_URL, the test credentials and the region. Reads the endpoint
// from $TXFLOW_S3_TEST_DIR/endpoint; aborts the test binary with a message
// when there is none (the test must fail, not skip). Idempotent.
void UseS3TestServer();

// "http://127.0.0.1:port" of the fixture's server (calls UseS3TestServer).
std::string S3TestEndpoint();

}  // namespace txflow::testing

#endif  // TXFLOW_TESTING_TEST_STORAGE_H_
