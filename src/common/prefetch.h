// A cache hint the optimiser keeps. GCC 12 at -O3 deleted
// __builtin_prefetch calls whose address came from loads done only for the
// hint (the detector's record prefetch vanished from the binary); an asm
// statement marked volatile is always emitted.
#ifndef TXFLOW_COMMON_PREFETCH_H_
#define TXFLOW_COMMON_PREFETCH_H_

namespace txflow {

// Starts loading the cache line holding *p. Never faults, changes nothing.
inline void Prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace txflow

#endif  // TXFLOW_COMMON_PREFETCH_H_
