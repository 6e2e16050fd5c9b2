// Strict UTF-8 (RFC 3629): the one decoder behind every output that must be
// valid UTF-8 whatever bytes came in (JSON log lines, the HTML report).
#ifndef TXFLOW_COMMON_UTF8_H_
#define TXFLOW_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace txflow {

// Length of the valid UTF-8 sequence at the start of `s` (non-empty), 0 if
// invalid: overlong forms, surrogates, code points past U+10FFFF and cut
// sequences are invalid, so a strict decoder accepts what passes.
size_t Utf8SequenceLength(std::string_view s);

// `s` with each byte that does not belong to a valid sequence replaced by
// U+FFFD (one per byte); valid UTF-8 comes back unchanged.
std::string Utf8Sanitize(std::string_view s);

// Appends code point `cp` (at most U+10FFFF, not a surrogate: callers check)
// as UTF-8; the JSON and XML decoders of src/s3 turn escapes into text with it.
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace txflow

#endif  // TXFLOW_COMMON_UTF8_H_
