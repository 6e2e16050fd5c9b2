#include "detector/chunk_decoder.h"

#include <cstdio>
#include <optional>
#include <utility>

#include "csv/record_scanner.h"
#include "csv/row_decoder.h"

namespace txflow {

std::string Printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

Status ChunkDecoder::ReadHeader(std::string_view text, bool need_category,
                                std::string_view uri, Columns* columns,
                                size_t* body,
                                std::vector<std::string_view>* fields,
                                std::string* scratch) {
  *columns = Columns();
  *body = 0;
  if (text.empty()) return Status::OK();
  const ScanResult head = ScanRecords(text, 1);
  const std::string_view header_line =
      head.records == 1 ? text.substr(0, head.bytes) : text;
  if (SplitFields(header_line, fields, scratch).has_value()) {
    return Status::InvalidArgument(std::string(uri) +
                                   ": unreadable header line");
  }
  const std::vector<int> at = FindColumns(
      *fields, {"customer", "merchant", "gender", "amount", "category"});
  *columns = {at[0], at[1], at[2], at[3], at[4], fields->size()};
  for (auto [idx, name] : {std::pair{columns->customer, "customer"},
                           {columns->merchant, "merchant"},
                           {columns->gender, "gender"},
                           {columns->amount, "amount"}}) {
    if (idx < 0) {
      return Status::InvalidArgument(std::string(uri) + ": header has no '" +
                                     name + "' column");
    }
  }
  if (need_category && columns->category < 0) {
    return Status::InvalidArgument(
        std::string(uri) +
        ": header has no 'category' column, needed with an importance table");
  }
  *body = head.records == 1 ? head.bytes : text.size();
  return Status::OK();
}

void ChunkDecoder::Reset(bool part) {
  part_ = part;
  rows_.clear();
  quarantine_.clear();
  copies_.clear();
  bad_rows_ = 0;
  records_ = 0;
}

Status ChunkDecoder::Decode(std::string_view text, std::string_view key,
                            uint64_t start, bool need_category,
                            std::string_view uri) {
  Reset(false);
  if (uri.empty()) uri = key;
  Columns col;
  size_t body;
  TXFLOW_RETURN_IF_ERROR(
      ReadHeader(text, need_category, uri, &col, &body, &fields_, &scratch_));
  DecodeRecords(text, key, col, body, text.size(), start, need_category);
  return Status::OK();
}

Result<ChunkDecoder::SplitPlan> ChunkDecoder::Split(std::string_view text,
                                                    uint64_t start,
                                                    bool need_category,
                                                    size_t parts,
                                                    std::string_view uri) {
  SplitPlan plan;
  size_t body;
  std::vector<std::string_view> fields;
  std::string scratch;
  TXFLOW_RETURN_IF_ERROR(ReadHeader(text, need_category, uri, &plan.columns,
                                    &body, &fields, &scratch));
  // Each cut is the end of the last whole record before an equal share of
  // the bytes, found by the same scanner Decode reads records with, so the
  // parts' records are exactly the chunk's.
  Part part{body, body, start};
  for (size_t i = 1; i < parts; ++i) {
    const size_t target = body + (text.size() - body) * i / parts;
    if (target <= part.begin) continue;
    const ScanResult r = ScanRecords(
        text.substr(part.begin, target - part.begin), static_cast<size_t>(-1));
    if (r.records == 0) continue;
    part.end = part.begin + r.bytes;
    plan.parts.push_back(part);
    part = {part.end, part.end, part.first_record + r.records};
  }
  part.end = text.size();
  plan.parts.push_back(part);
  return plan;
}

void ChunkDecoder::DecodePart(std::string_view text, std::string_view key,
                              const Columns& columns, const Part& part,
                              bool need_category) {
  Reset(true);
  DecodeRecords(text, key, columns, part.begin, part.end, part.first_record,
                need_category);
}

void ChunkDecoder::DecodeRecords(std::string_view text, std::string_view key,
                                 const Columns& col, size_t begin, size_t end,
                                 uint64_t start, bool need_category) {
  std::vector<std::string_view>& f = fields_;
  uint64_t record = start;
  RecordReader reader(text.substr(begin, end - begin));
  std::string_view raw;
  for (size_t offset = begin; reader.Next(&raw);
       ++record, offset = begin + reader.position()) {
    std::string reason;
    if (auto err = SplitFields(raw, &f, &scratch_)) {
      reason = *err;
    } else if (f.size() != col.width) {
      reason = "has " + std::to_string(f.size()) + " fields, header has " +
               std::to_string(col.width);
    } else if (f[col.customer].empty()) {
      reason = "empty customer";
    } else if (f[col.merchant].empty()) {
      reason = "empty merchant";
    } else if (f[col.gender].empty()) {
      reason = "empty gender";
    } else if (f[col.amount].empty()) {
      reason = "empty amount";
    } else if (need_category && f[col.category].empty()) {
      reason = "empty category";
    }
    std::optional<int64_t> paise;
    if (reason.empty()) {
      paise = ParseDecimal(f[col.amount], 2);
      // Built only for a bad row: the good-row path allocates nothing.
      auto shown = [&] {
        return "amount '" + Printable(f[col.amount].substr(0, 64)) +
               (f[col.amount].size() > 64 ? "...'" : "'");
      };
      if (!paise) {
        reason = shown() + " is not a decimal number";
      } else if (*paise > kMaxAmountPaise || *paise < -kMaxAmountPaise) {
        reason =
            shown() + " is beyond +-100000000000.00, the range held exactly";
      }
    }
    if (!reason.empty()) {
      Quarantine(key, record, offset, reason, raw);
      continue;
    }
    rows_.push_back(
        {Stable(f[col.customer], text), Stable(f[col.merchant], text),
         need_category ? Stable(f[col.category], text) : std::string_view(),
         *paise, GenderOf(f[col.gender]), record});
  }
  records_ = record - start;
}

void ChunkDecoder::Quarantine(std::string_view key, uint64_t record,
                              size_t offset, std::string_view reason,
                              std::string_view raw) {
  if (quarantine_.empty() && !part_) quarantine_ = kQuarantineHeader;
  quarantine_ += key;
  quarantine_ += ',';
  quarantine_ += std::to_string(record);
  quarantine_ += ',';
  quarantine_ += std::to_string(offset);
  quarantine_ += ',';
  AppendCsvField(&quarantine_, reason);
  quarantine_ += ',';
  std::string_view body = raw;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
    body.remove_suffix(1);
  // A hostile row (a 1 GB line) is kept only in part.
  if (body.size() > kMaxQuarantinedRowBytes) {
    AppendCsvField(&quarantine_,
                   std::string(body.substr(0, kMaxQuarantinedRowBytes)) +
                       "... (" +
                       std::to_string(body.size() - kMaxQuarantinedRowBytes) +
                       " more bytes)");
  } else {
    AppendCsvField(&quarantine_, body);
  }
  quarantine_ += '\n';
  ++bad_rows_;
}

std::string_view ChunkDecoder::Stable(std::string_view field,
                                      std::string_view text) {
  const char* p = field.data();
  if (field.empty() || (p >= text.data() && p < text.data() + text.size())) {
    return field;
  }
  copies_.emplace_back(field);
  return copies_.back();
}

}  // namespace txflow
