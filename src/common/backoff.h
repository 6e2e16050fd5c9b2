// The one retry delay of txflow: exponential backoff with jitter, used by the
// S3 client (per request) and by the command loops (per step). Thread-safe.
#ifndef TXFLOW_COMMON_BACKOFF_H_
#define TXFLOW_COMMON_BACKOFF_H_

#include <chrono>
#include <cstdint>

namespace txflow {

// The wait before retry number `attempt` (0-based): d = min(cap, base *
// 2^attempt), then half of d plus a uniformly random part of the other half
// ("equal jitter": never zero, and concurrent retriers spread out).
std::chrono::milliseconds BackoffDelay(int attempt, int64_t base_ms,
                                       int64_t cap_ms);

}  // namespace txflow

#endif  // TXFLOW_COMMON_BACKOFF_H_
