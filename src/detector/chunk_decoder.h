// Decodes one landing-zone chunk (SPEC §2.1): finds the columns by header
// name, splits every record, and sorts the rows into good ones (decoded) and
// bad ones (the quarantine file's text). The one definition of a good row,
// shared by every engine: `txflow detect` and the Python package (which the
// Spark job uses) call this, so parsing and bad rows cannot differ between
// them.
//
// Pure: no I/O, no state but reusable buffers. Not thread-safe; one decoder
// per thread.
#ifndef TXFLOW_DETECTOR_CHUNK_DECODER_H_
#define TXFLOW_DETECTOR_CHUNK_DECODER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "detector/detection.h"
#include "txflow/status.h"

namespace txflow {

// A good row. Its views point into the chunk text given to Decode, or (for a
// quoted field that needed unescaping) into strings the decoder owns.
struct DecodedRow {
  std::string_view customer;
  std::string_view merchant;
  std::string_view category;  // empty unless category was asked for
  int64_t paise;              // |paise| <= kMaxAmountPaise
  Gender gender;
  uint64_t record;  // its record number in the source (SPEC §2.1)
};

class ChunkDecoder {
 public:
  // |amount| <= 10^11 rupees: its weight (10^4 units per paisa) then fits in
  // int64 with room for a hundred such rows in one customer's sum. A row
  // beyond it is bad.
  static constexpr int64_t kMaxAmountPaise = 10'000'000'000'000;
  // A bad record longer than this is quarantined in part (the chunk itself
  // stays in the landing zone, whole).
  static constexpr size_t kMaxQuarantinedRowBytes = 64 << 10;
  // The first line of a quarantine file.
  static constexpr std::string_view kQuarantineHeader =
      "chunk,record,byte_offset,reason,raw\n";

  // Decodes `text`, the chunk `key` (named in the quarantine rows) whose
  // first record is record number `start`. `need_category`: the category
  // column is required (an importance table is in use) and its value is
  // decoded; an empty one makes the row bad.
  //
  // Returns InvalidArgument "<uri>: header has no '<column>' column..." (or
  // "<uri>: unreadable header line") when the header lacks a required
  // column: a source problem, not a bad row. `uri` names the chunk in that
  // message; empty means `key`.
  //
  // On success, until the next Decode or the decoder's end: rows() holds the
  // good rows in chunk order (views valid while `text` is too),
  // quarantine() the quarantine file's text ("" when every row is good),
  // bad_rows() and records() the counts. On error they are empty.
  [[nodiscard]] Status Decode(std::string_view text, std::string_view key,
                              uint64_t start, bool need_category,
                              std::string_view uri = {});

  // Decoding one chunk in parts, for a caller that spreads it over threads
  // (the detector): Split() reads the header and cuts the records into at
  // most `parts` ranges of whole records of similar byte size; DecodePart()
  // of range i on its own decoder gives exactly the rows, quarantine rows
  // and counts Decode() would give for those records (quarantine() then has
  // no header line: the caller puts the parts together). Split fails as
  // Decode does for a bad header.
  struct Columns {
    int customer = -1, merchant = -1, gender = -1, amount = -1, category = -1;
    size_t width = 0;
  };
  struct Part {
    size_t begin = 0, end = 0;  // byte range of whole records in the text
    uint64_t first_record = 0;  // the record number of its first record
  };
  struct SplitPlan {
    Columns columns;
    std::vector<Part> parts;
  };
  static Result<SplitPlan> Split(std::string_view text, uint64_t start,
                                 bool need_category, size_t parts,
                                 std::string_view uri);
  void DecodePart(std::string_view text, std::string_view key,
                  const Columns& columns, const Part& part, bool need_category);

  const std::vector<DecodedRow>& rows() const { return rows_; }
  const std::string& quarantine() const { return quarantine_; }
  uint64_t bad_rows() const { return bad_rows_; }
  uint64_t records() const { return records_; }

 private:
  // Reads the header line of `text`: its columns, and where the records
  // start.
  static Status ReadHeader(std::string_view text, bool need_category,
                           std::string_view uri, Columns* columns, size_t* body,
                           std::vector<std::string_view>* fields,
                           std::string* scratch);
  // Clears the results; `part`: what follows decodes a part (no quarantine
  // header).
  void Reset(bool part);
  // Decodes the records in text[begin, end), the first numbered `record`.
  void DecodeRecords(std::string_view text, std::string_view key,
                     const Columns& col, size_t begin, size_t end,
                     uint64_t record, bool need_category);
  // `field` when it points into `text`, else (it is in the split scratch,
  // which the next record reuses) a view of a copy kept in copies_.
  std::string_view Stable(std::string_view field, std::string_view text);
  void Quarantine(std::string_view key, uint64_t record, size_t offset,
                  std::string_view reason, std::string_view raw);

  std::vector<DecodedRow> rows_;
  std::string quarantine_;
  uint64_t bad_rows_ = 0;
  uint64_t records_ = 0;
  bool part_ = false;
  std::deque<std::string> copies_;  // a deque: views stay valid as it grows
  std::vector<std::string_view> fields_;
  std::string scratch_;
};

// `text` with bytes that are not printable ASCII as \xNN, for messages.
std::string Printable(std::string_view text);

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_CHUNK_DECODER_H_
