// Only in the wheel's build (TXFLOW_STATIC_LIBSTDCXX), linked with
// -Wl,--wrap=arc4random: GCC 12's static libstdc++ on glibc 2.36 implements
// std::random_device with arc4random, a glibc 2.36 symbol, and the linker pulls
// that object in through the string code even though txflow never uses
// std::random_device (common/random.h). The wrap points the reference here, so
// the binary and the extension need no glibc newer than 2.35 (Ubuntu 22.04,
// the Databricks LTS runtimes); the wheel test checks the symbol versions.
#include <cstdint>

#include "common/random.h"

extern "C" uint32_t __wrap_arc4random(void) {
  return static_cast<uint32_t>(txflow::RandomU64());
}
