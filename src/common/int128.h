// 128-bit integers for exact products and sums of 64-bit quantities (GCC and
// Clang builtins; __extension__ keeps -Wpedantic quiet).
#ifndef TXFLOW_COMMON_INT128_H_
#define TXFLOW_COMMON_INT128_H_

namespace txflow {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

}  // namespace txflow

#endif  // TXFLOW_COMMON_INT128_H_
