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

namespace txflow {

// Splits `record` (its trailing "\n" / "\r\n" optional) into `fields`.
// Returns an error reason, or nullopt on success. Fields point into `record`,
// or into `scratch` for quoted fields that needed unescaping; both must
// outlive them, and the next call may reuse `scratch`.
std::optional<std::string> SplitFields(std::string_view record,
                                       std::vector<std::string_view>* fields,
                                       std::string* scratch);

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

}  // namespace txflow

#endif  // TXFLOW_CSV_ROW_DECODER_H_
