// Random 64-bit values from the kernel (getrandom(2)), for seeds and tokens
// that must differ between processes and hosts: retry jitter, lock owner
// tokens. Not for cryptography beyond that. Thread-safe.
//
// std::random_device is not used on purpose: the static libstdc++ the wheel
// links would then need glibc 2.36's arc4random, and the wheel must run on
// glibc 2.35 (docs/deploy.md, "The wheel").
#ifndef TXFLOW_COMMON_RANDOM_H_
#define TXFLOW_COMMON_RANDOM_H_

#include <cstdint>

namespace txflow {

// Never fails: falls back to a mix of the clock, the thread and a counter if
// the kernel has no getrandom (Linux < 3.17), since these values need only
// differ, not be secret.
uint64_t RandomU64();

}  // namespace txflow

#endif  // TXFLOW_COMMON_RANDOM_H_
