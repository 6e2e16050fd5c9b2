// Turns one CSV record into field values and parses the numbers txflow needs
// (SPEC §2.1). Works on records as ScanRecords delimits them.
//
// A field is trimmed of surrounding blanks, then loses one layer of quotes:
// RFC 4180 double quotes ("" inside is a quote; newlines allowed) or the
// single quotes BankSim wraps values in. Bytes after a closing double quote
// other than blanks make the record malformed.
#ifndef TXFLOW_CSV_ROW_DECODER_H_
#define TXFLOW_CSV_ROW_DECODER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/int128.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace txflow {

// Splits `record` (its trailing "\n" / "\r\n" optional) into `fields`.
// Returns an error reason, or nullopt on success. Fields point into `record`,
// or into `scratch` for quoted fields that needed unescaping; both must
// outlive them, and the next call may reuse `scratch`.
std::optional<std::string> SplitFields(std::string_view record,
                                       std::vector<std::string_view>* fields,
                                       std::string* scratch);

// The fast path of SplitFields, for callers with their own field handling
// (the importance table's loader): in a record without any '"' (line end
// removed), every field is the span between two commas, made a value by
// BareField. ScanBareCommas calls on_comma(offset) for each comma in order,
// 16 bytes at a time where SSE2 is there; it returns false as soon as it
// meets a '"' (SplitFields must decide that record) or on_comma returns
// false, true otherwise.
template <typename OnComma>
bool ScanBareCommas(std::string_view record, OnComma on_comma);
// A field of such a record as SplitFields makes it: blanks (space, tab)
// trimmed, then one layer of single quotes removed.
std::string_view BareField(std::string_view v);

// Convenience for non-hot paths: owned copies of the fields.
std::optional<std::string> SplitFields(std::string_view record,
                                       std::vector<std::string>* fields);

// The inverse of SplitFields for one field: appends `v` so that SplitFields
// gives it back byte for byte. Quoted (RFC 4180, "" for a quote) when empty
// or when it holds a comma, a quote, CR or LF, has blanks at either end or
// starts and ends with a single quote (which SplitFields would remove);
// bare otherwise. The one CSV writer of the project.
void AppendCsvField(std::string* out, std::string_view v);

// The position of each of `names` (lower case) among the header fields,
// compared case-insensitively (SPEC §2.1); -1 for a name that is absent.
// When a name appears twice the first one counts.
std::vector<int> FindColumns(const std::vector<std::string_view>& header,
                             const std::vector<std::string_view>& names);

// A decimal number as an integer count of 10^-scale units, rounded half away
// from zero: "4.555" at scale 2 is 456, "-0.125" is -13. Accepts an optional
// sign, digits, and an optional fraction ("12", "0.5", "3."); rejects
// exponents, blanks inside, empty input, and integer parts with more than
// min(15, 18 - scale) significant digits (leading zeros do not count:
// "0023.50" is 2350 at scale 2; so amounts below 10^15 rupees at scale 2,
// weights below 10^12 at scale 6; rounding may carry the result to exactly
// that power of ten).
std::optional<int64_t> ParseDecimal(std::string_view text, int scale);

// The same grammar, exactly, without rounding: the value in 10^-scale units
// (scale <= 18), or nullopt when the text has a non-zero digit below 10^-scale
// or more than 18 significant integer digits. For sums that must be rounded
// once, at the end (the importance table's means, SPEC §2.2).
std::optional<Int128> ParseDecimalExact(std::string_view text, int scale);

template <typename OnComma>
bool ScanBareCommas(std::string_view record, OnComma on_comma) {
  const char* const p = record.data();
  const size_t n = record.size();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i quote = _mm_set1_epi8('"');
  for (; i + 16 <= n; i += 16) {
    const __m128i block =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(block, quote)) != 0) return false;
    unsigned bits =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, comma)));
    while (bits != 0) {
      if (!on_comma(i + static_cast<size_t>(__builtin_ctz(bits)))) {
        return false;
      }
      bits &= bits - 1;
    }
  }
#endif
  for (; i < n; ++i) {
    if (p[i] == '"') return false;
    if (p[i] == ',' && !on_comma(i)) return false;
  }
  return true;
}

}  // namespace txflow

#endif  // TXFLOW_CSV_ROW_DECODER_H_
