#include "csv/record_scanner.h"

#include <cstring>

namespace txflow {
namespace {

// Length of the record starting at data[0] including its '\n', or 0 if the
// record is incomplete. Full state machine; used only for records that
// contain a double quote.
size_t QuotedRecordLength(std::string_view data) {
  enum class State { kFieldStart, kBare, kQuoted, kQuoteInQuoted };
  State state = State::kFieldStart;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    switch (state) {
      case State::kFieldStart:
        if (c == '\n') return i + 1;
        if (c == '"') {
          state = State::kQuoted;
        } else if (c != ',' && c != ' ' && c != '\t') {
          state = State::kBare;
        }
        break;
      case State::kBare:
        if (c == '\n') return i + 1;
        if (c == ',') state = State::kFieldStart;
        break;
      case State::kQuoted:
        if (c == '"') state = State::kQuoteInQuoted;
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {
          state = State::kQuoted;  // "" escape
        } else if (c == '\n') {
          return i + 1;
        } else {
          state = c == ',' ? State::kFieldStart : State::kBare;
        }
        break;
    }
  }
  return 0;
}

}  // namespace

RecordReader::RecordReader(std::string_view data) : data_(data) {
  const void* q = std::memchr(data_.data(), '"', data_.size());
  next_quote_ =
      q ? static_cast<size_t>(static_cast<const char*>(q) - data_.data())
        : data_.size();
}

bool RecordReader::Next(std::string_view* record) {
  if (pos_ >= data_.size()) return false;
  const char* base = data_.data();
  const void* nl = std::memchr(base + pos_, '\n', data_.size() - pos_);
  size_t end;
  if (nl != nullptr &&
      static_cast<size_t>(static_cast<const char*>(nl) - base) < next_quote_) {
    end = static_cast<size_t>(static_cast<const char*>(nl) - base) + 1;
  } else {
    const size_t len = QuotedRecordLength(data_.substr(pos_));
    end = len == 0 ? data_.size() : pos_ + len;
    if (end > next_quote_) {
      const void* q = std::memchr(base + end, '"', data_.size() - end);
      next_quote_ = q ? static_cast<size_t>(static_cast<const char*>(q) - base)
                      : data_.size();
    }
  }
  *record = data_.substr(pos_, end - pos_);
  pos_ = end;
  return true;
}

ScanResult ScanRecords(std::string_view data, size_t max_records) {
  ScanResult r;
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  const char* p = begin;
  // Fast path: records before the next double quote end at their first '\n'.
  const char* next_quote =
      static_cast<const char*>(std::memchr(p, '"', data.size()));
  if (next_quote == nullptr) next_quote = end;
  while (r.records < max_records && p < end) {
    const char* const record_start = p;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (nl == nullptr) break;
    if (nl < next_quote) {
      p = nl + 1;
    } else {
      const size_t len = QuotedRecordLength(std::string_view(p, end - p));
      if (len == 0) break;
      p += len;
      if (p > next_quote) {
        next_quote = static_cast<const char*>(std::memchr(p, '"', end - p));
        if (next_quote == nullptr) next_quote = end;
      }
    }
    if (static_cast<size_t>(p - record_start) > r.longest) {
      r.longest = static_cast<size_t>(p - record_start);
      r.longest_index = r.records;
    }
    ++r.records;
    r.bytes = static_cast<size_t>(p - begin);
  }
  return r;
}

}  // namespace txflow
