// ASCII case folding, for the names the formats say are case-insensitive
// (URI schemes, CSV header names). Only A-Z change: no locale is consulted,
// so the result is the same on every machine.
#ifndef TXFLOW_COMMON_ASCII_H_
#define TXFLOW_COMMON_ASCII_H_

#include <string>
#include <string_view>

namespace txflow {

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace txflow

#endif  // TXFLOW_COMMON_ASCII_H_
