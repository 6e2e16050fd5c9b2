// One-line, timestamped log messages on stderr. Thread-safe (one write(2) per
// line). Messages must not contain secrets; callers pass URIs, never
// credentials.
#ifndef TXFLOW_COMMON_LOG_H_
#define TXFLOW_COMMON_LOG_H_

#include <string_view>

namespace txflow {

void LogInfo(std::string_view message);

// Silences LogInfo (tests that drive thousands of ticks).
void SetLogQuiet(bool quiet);

}  // namespace txflow

#endif  // TXFLOW_COMMON_LOG_H_
