// The two renderings of a RootStatus: a short aligned table for people and
// one JSON object for machines (fields: docs/operations.md, "txflow status").
#ifndef TXFLOW_STATUS_STATUS_FORMAT_H_
#define TXFLOW_STATUS_STATUS_FORMAT_H_

#include <cstdint>
#include <string>

#include "status/root_status.h"

namespace txflow {

// Exit codes of `txflow status`; also its "verdict" field.
inline constexpr int kStatusHealthy = 0;
inline constexpr int kStatusLagging = 1;
inline constexpr int kStatusBroken = 2;

int StatusExitCode(const RootStatus& s);
const char* VerdictName(int exit_code);

// Storage requests the collection sent (S3 roots; zero on local ones).
struct StatusRequests {
  uint64_t budget = 0;
  uint64_t get = 0, head = 0, list = 0, put = 0, post = 0, del = 0;
  uint64_t retries = 0;
  uint64_t Total() const { return get + head + list + put + post + del; }
};

std::string FormatStatusText(const RootStatus& s, const StatusRequests& r);
std::string FormatStatusJson(const RootStatus& s, const StatusRequests& r);

// The JSON object for a root that could not be read: verdict "broken" and
// the one-line reason.
std::string FormatStatusErrorJson(const std::string& root,
                                  const std::string& error,
                                  const StatusRequests& r);

}  // namespace txflow

#endif  // TXFLOW_STATUS_STATUS_FORMAT_H_
