#include "detector/importance_table.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "common/crc32c.h"
#include "common/int128.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

namespace txflow {
namespace {

std::string Key(std::string_view c, std::string_view m, std::string_view cat) {
  std::string k;
  k.reserve(c.size() + m.size() + cat.size() + 2);
  k.append(c).push_back('\x1f');
  k.append(m).push_back('\x1f');
  k.append(cat);
  return k;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

// Rounds num / den to the nearest integer, halves away from zero. den > 0.
int64_t DivRound(Int128 num, int64_t den) {
  const Int128 q = num / den, r = num % den;
  if (2 * (r < 0 ? -r : r) >= den)
    return static_cast<int64_t>(q + (num < 0 ? -1 : 1));
  return static_cast<int64_t>(q);
}

}  // namespace

Result<ImportanceTable> ImportanceTable::Parse(std::string_view text,
                                               const std::string& uri) {
  ImportanceTable table;
  table.fingerprint_ = Crc32c(text);
  std::vector<std::string> f;
  const ScanResult head = ScanRecords(text, 1);
  const std::string_view header_line =
      head.records == 1 ? text.substr(0, head.bytes) : text;
  if (header_line.empty() || SplitFields(header_line, &f).has_value()) {
    return Status::InvalidArgument(uri + ": no readable header line");
  }
  int col[4] = {-1, -1, -1, -1};
  const char* names[4] = {"source", "target", "weight", "typetrans"};
  for (size_t i = 0; i < f.size(); ++i) {
    for (int k = 0; k < 4; ++k) {
      if (Lower(f[i]) == names[k] && col[k] < 0) col[k] = static_cast<int>(i);
    }
  }
  for (int k = 0; k < 4; ++k) {
    if (col[k] < 0) {
      return Status::InvalidArgument(uri + ": header has no '" +
                                     std::string(k == 0   ? "Source"
                                                 : k == 1 ? "Target"
                                                 : k == 2 ? "Weight"
                                                          : "typeTrans") +
                                     "' column");
    }
  }
  const size_t width = f.size();
  struct Sum {
    Int128 total = 0;
    int64_t count = 0;
  };
  std::unordered_map<std::string, Sum> sums;
  RecordReader reader(text.substr(head.bytes));
  std::string_view rec;
  std::vector<std::string_view> v;
  std::string scratch;
  for (uint64_t line = 2; reader.Next(&rec); ++line) {
    if (rec.find_first_not_of("\r\n") == std::string_view::npos)
      continue;  // blank
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(uri + ": record " +
                                     std::to_string(line - 1) + ": " + why);
    };
    if (auto err = SplitFields(rec, &v, &scratch)) return bad(*err);
    if (v.size() != width) {
      return bad("has " + std::to_string(v.size()) + " fields, header has " +
                 std::to_string(width));
    }
    const auto w = ParseDecimal(v[col[2]], 6);
    if (!w)
      return bad("Weight '" + std::string(v[col[2]]) +
                 "' is not a decimal number");
    Sum& s = sums[Key(v[col[0]], v[col[1]], v[col[3]])];
    s.total += *w;
    ++s.count;
  }
  size_t slots = 16;
  while (slots < 2 * sums.size()) slots *= 2;
  table.slots_.assign(slots, 0);
  table.entries_.reserve(sums.size());
  for (auto& [k, s] : sums) {
    const uint64_t h = std::hash<std::string_view>()(k);
    table.entries_.push_back({h, static_cast<uint32_t>(table.keys_.size()),
                              static_cast<uint32_t>(k.size()),
                              DivRound(s.total, s.count)});
    table.keys_ += k;
    size_t i = h & (slots - 1);
    while (table.slots_[i] != 0) i = (i + 1) & (slots - 1);
    table.slots_[i] = static_cast<uint32_t>(table.entries_.size());
  }
  return table;
}

std::optional<int64_t> ImportanceTable::Find(std::string_view customer,
                                             std::string_view merchant,
                                             std::string_view category) const {
  if (slots_.empty()) return std::nullopt;
  thread_local std::string key;
  key.clear();
  key.append(customer).push_back('\x1f');
  key.append(merchant).push_back('\x1f');
  key.append(category);
  const uint64_t h = std::hash<std::string_view>()(key);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask; slots_[i] != 0; i = (i + 1) & mask) {
    const Entry& e = entries_[slots_[i] - 1];
    if (e.hash == h &&
        std::string_view(keys_).substr(e.key_offset, e.key_size) == key) {
      return e.mean;
    }
  }
  return std::nullopt;
}

}  // namespace txflow
