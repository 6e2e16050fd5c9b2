#include "csv/row_decoder.h"

#include <algorithm>
#include <cstring>

#include "common/ascii.h"

namespace txflow {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The common case, a record without any '"': every field is unquoted, so
// the fields are the spans between commas (BareField), exactly as the
// general path below would make them. False (fields unspecified) when the
// record has a '"'.
bool SplitUnquoted(std::string_view record,
                   std::vector<std::string_view>* fields) {
  size_t start = 0;
  const bool bare = ScanBareCommas(record, [&](size_t at) {
    fields->push_back(BareField(record.substr(start, at - start)));
    start = at + 1;
    return true;
  });
  if (!bare) return false;
  fields->push_back(BareField(record.substr(start)));
  return true;
}

}  // namespace

std::string_view BareField(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    v = v.substr(1, v.size() - 2);
  }
  return v;
}

std::optional<std::string> SplitFields(std::string_view record,
                                       std::vector<std::string_view>* fields,
                                       std::string* scratch) {
  if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  fields->clear();
  scratch->clear();
  if (SplitUnquoted(record, fields)) return std::nullopt;
  fields->clear();
  // Unescaped quoted fields are appended to scratch; it must not reallocate
  // while views into it are live, and it never needs more than the record.
  scratch->reserve(record.size());
  size_t i = 0;
  while (true) {
    size_t j = i;
    while (j < record.size() && IsBlank(record[j])) ++j;
    if (j < record.size() && record[j] == '"') {
      const size_t begin = ++j;
      size_t close = record.find('"', begin);
      std::string_view value;
      if (close != std::string_view::npos &&
          (close + 1 >= record.size() || record[close + 1] != '"')) {
        value = record.substr(begin, close - begin);  // no escapes: a view
        j = close + 1;
      } else {
        const size_t start = scratch->size();
        while (true) {
          if (j >= record.size()) return "unterminated double quote";
          const char c = record[j++];
          if (c != '"') {
            scratch->push_back(c);
          } else if (j < record.size() && record[j] == '"') {
            scratch->push_back('"');
            ++j;
          } else {
            break;
          }
        }
        value = std::string_view(*scratch).substr(start);
      }
      while (j < record.size() && IsBlank(record[j])) ++j;
      if (j < record.size() && record[j] != ',')
        return "text after a closing quote";
      fields->push_back(value);
      i = j;
    } else {
      const size_t comma = record.find(',', i);
      const size_t end =
          comma == std::string_view::npos ? record.size() : comma;
      fields->push_back(BareField(record.substr(i, end - i)));
      i = end;
    }
    if (i >= record.size()) break;
    ++i;  // the comma
  }
  return std::nullopt;
}

std::optional<std::string> SplitFields(std::string_view record,
                                       std::vector<std::string>* fields) {
  std::vector<std::string_view> views;
  std::string scratch;
  auto err = SplitFields(record, &views, &scratch);
  if (err) return err;
  fields->assign(views.begin(), views.end());
  return std::nullopt;
}

void AppendCsvField(std::string* out, std::string_view v) {
  const bool quote = v.empty() ||
                     v.find_first_of(",\"\r\n") != std::string_view::npos ||
                     IsBlank(v.front()) || IsBlank(v.back()) ||
                     (v.size() >= 2 && v.front() == '\'' && v.back() == '\'');
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::vector<int> FindColumns(const std::vector<std::string_view>& header,
                             const std::vector<std::string_view>& names) {
  std::vector<int> at(names.size(), -1);
  for (size_t i = header.size(); i-- > 0;) {  // backwards: the first wins
    const std::string name = AsciiLower(header[i]);
    for (size_t k = 0; k < names.size(); ++k) {
      if (name == names[k]) at[k] = static_cast<int>(i);
    }
  }
  return at;
}

namespace {

// A decimal text split into its parts, the grammar checked: optional sign,
// digits, optional '.' and digits, at least one digit in all. Leading zeros
// of the integer part are dropped: they carry no value.
struct DecimalParts {
  bool negative = false;
  std::string_view whole;  // significant integer digits (may be empty)
  std::string_view frac;   // every fraction digit as written
};

std::optional<DecimalParts> SplitDecimal(std::string_view text) {
  DecimalParts d;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    d.negative = text.front() == '-';
    text.remove_prefix(1);
  }
  auto digits = [&text] {
    size_t n = 0;
    while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
    const std::string_view run = text.substr(0, n);
    text.remove_prefix(n);
    return run;
  };
  d.whole = digits();
  bool any = !d.whole.empty();
  while (!d.whole.empty() && d.whole.front() == '0') d.whole.remove_prefix(1);
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    d.frac = digits();
    any = any || !d.frac.empty();
  }
  if (!text.empty() || !any) return std::nullopt;
  return d;
}

uint64_t Digits(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

}  // namespace

std::optional<int64_t> ParseDecimal(std::string_view text, int scale) {
  // The result must fit in int64 with room for rounding: at most 15
  // significant integer digits, fewer at scales above 3 (10^18 >
  // 999,999,999,999 * 10^6).
  if (scale < 0 || scale > 18) return std::nullopt;
  const auto d = SplitDecimal(text);
  if (!d || d->whole.size() > static_cast<size_t>(std::min(15, 18 - scale))) {
    return std::nullopt;
  }
  const size_t kept = std::min(d->frac.size(), static_cast<size_t>(scale));
  int64_t units = static_cast<int64_t>(Digits(d->whole));
  for (int k = 0; k < scale; ++k) units *= 10;
  int64_t frac = static_cast<int64_t>(Digits(d->frac.substr(0, kept)));
  for (size_t k = kept; k < static_cast<size_t>(scale); ++k) frac *= 10;
  // The first dropped digit decides: half away from zero.
  const bool round_up = d->frac.size() > kept && d->frac[kept] >= '5';
  units += frac + (round_up ? 1 : 0);
  return d->negative ? -units : units;
}

std::optional<Int128> ParseDecimalExact(std::string_view text, int scale) {
  if (scale < 0 || scale > 18) return std::nullopt;
  const auto d = SplitDecimal(text);
  if (!d || d->whole.size() > 18) return std::nullopt;
  std::string_view frac = d->frac;
  while (frac.size() > static_cast<size_t>(scale) && frac.back() == '0') {
    frac.remove_suffix(1);  // trailing zeros are exact at any scale
  }
  if (frac.size() > static_cast<size_t>(scale)) return std::nullopt;
  uint64_t pow = 1;
  for (int k = 0; k < scale; ++k) pow *= 10;
  uint64_t f = Digits(frac);
  for (size_t k = frac.size(); k < static_cast<size_t>(scale); ++k) f *= 10;
  const Int128 v = static_cast<Int128>(Digits(d->whole)) * pow + f;
  return d->negative ? -v : v;
}

}  // namespace txflow
