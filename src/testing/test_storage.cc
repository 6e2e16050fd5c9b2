#include "testing/test_storage.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace txflow::testing {
namespace {

std::once_flag configured;
std::string endpoint;

const std::string& RunId() {
  static const std::string id = [] {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    return "run-" + std::to_string(::getpid()) + "-" +
           std::to_string(
               std::chrono::duration_cast<std::chrono::microseconds>(now)
                   .count());
  }();
  return id;
}

}  // namespace

bool UsingS3() {
  const char* v = std::getenv("TXFLOW_TEST_STORAGE");
  return v != nullptr && std::string(v) == "s3";
}

void UseS3Endpoint(const std::string& url) {
  ::setenv("AWS_ENDPOINT_URL", url.c_str(), 1);
  ::setenv("AWS_ACCESS_KEY_ID", "txflow-test-key", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "txflow-test-secret", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
}

void UseS3TestServer() {
  std::call_once(configured, [] {
    const char* dir = std::getenv("TXFLOW_S3_TEST_DIR");
    if (dir != nullptr) {
      std::ifstream in(std::string(dir) + "/endpoint");
      std::getline(in, endpoint);
    }
    if (endpoint.empty()) {
      std::fprintf(stderr,
                   "S3 test server not running: no endpoint in "
                   "$TXFLOW_S3_TEST_DIR/endpoint (%s); run the tests through "
                   "ctest, which starts it (fixture s3_server)\n",
                   dir ? dir : "unset");
      std::abort();
    }
    UseS3Endpoint(endpoint);
    // Failures are the point of some tests; keep their retries quick.
    ::setenv("TXFLOW_S3_MAX_ATTEMPTS", "10", 0);
  });
}

std::string S3TestEndpoint() {
  UseS3TestServer();
  return endpoint;
}

std::string S3TestRoot(std::string_view name) {
  UseS3TestServer();
  return std::string("s3://") + kS3TestBucket + "/" + RunId() + "/" +
         std::string(name);
}

std::string TestRoot(std::string_view name) {
  if (UsingS3()) return S3TestRoot(name);
  return "mem://" + std::string(name);
}

}  // namespace txflow::testing
