// libFuzzer target: field splitting and decimals. Properties: SplitFields
// never fails on a record it produced itself (every field double-quoted, ""
// escaped) and gives back the same fields; ParseDecimal's value, printed
// back as a plain decimal, parses to the same value (when its integer part
// is below the accepted bound: rounding "999999999999999.99" at scale 0 gives
// 10^15, a value ParseDecimal returns but, as input, refuses). Found with
// UBSan: scale 6 overflowed int64 for 15-digit integer parts.
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "csv/row_decoder.h"

namespace {

std::string Quote(std::string_view field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> fields;
  std::string scratch;
  if (!txflow::SplitFields(in, &fields, &scratch)) {
    std::vector<std::string> owned(fields.begin(), fields.end());
    std::string again;
    for (size_t i = 0; i < owned.size(); ++i) {
      if (i > 0) again += ',';
      again += Quote(owned[i]);
    }
    again += '\n';
    std::vector<std::string> round;
    if (txflow::SplitFields(again, &round)) std::abort();
    if (round != owned) std::abort();
  }
  for (int scale : {0, 2, 6}) {
    const auto v = txflow::ParseDecimal(in, scale);
    if (!v) continue;
    const int64_t unit = scale == 0 ? 1 : scale == 2 ? 100 : 1'000'000;
    const int64_t whole = *v / unit, frac = *v % unit;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%0*" PRId64,
                  *v < 0 ? "-" : "", whole < 0 ? -whole : whole, scale,
                  frac < 0 ? -frac : frac);
    int64_t limit = 1;  // 10^min(15, 18 - scale): the accepted integer part
    for (int k = 0; k < std::min(15, 18 - scale); ++k) limit *= 10;
    if (whole >= limit || whole <= -limit) continue;
    const auto back = txflow::ParseDecimal(buf, scale);
    if (!back || *back != *v) std::abort();
  }
  return 0;
}
