// Where CSV records end. The one definition shared by the chunker (which cuts
// the source at record ends) and the detector (which decodes the records), so
// the two can never disagree about what a record is.
//
// Grammar (RFC 4180 plus the leniency SPEC §2.1 asks for): a record ends at a
// '\n' that is not inside double quotes; a "\r" before it belongs to the
// record. A field is quoted when its first non-blank byte is '"'; inside it,
// "" is a literal quote and a lone '"' closes the quotes. A '"' anywhere else
// is an ordinary byte, so a stray quote in a bare field cannot swallow the
// rest of the file. Single quotes are ordinary bytes here.
#ifndef TXFLOW_CSV_RECORD_SCANNER_H_
#define TXFLOW_CSV_RECORD_SCANNER_H_

#include <cstddef>
#include <string_view>

namespace txflow {

struct ScanResult {
  size_t records = 0;  // complete records found (each ends with '\n')
  size_t bytes = 0;    // bytes they span, from the start of `data`
  size_t longest = 0;  // bytes of the longest of them, and its index
  size_t longest_index = 0;
};

// Scans `data`, which must start at a record boundary, for at most
// `max_records` complete records. A trailing record without its '\n' (it may
// still be growing) is not counted.
ScanResult ScanRecords(std::string_view data, size_t max_records);

// Hands out the records of `data` (which starts at a record boundary) one at a
// time, each with its line end; a trailing record without '\n' comes last.
// Linear in the size of `data` overall (ScanRecords(rest, 1) per record would
// search the rest for a quote every time). Does not own `data`.
class RecordReader {
 public:
  explicit RecordReader(std::string_view data);
  // False when no bytes are left.
  bool Next(std::string_view* record);
  // Offset of the next record within `data`.
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t next_quote_;  // first '"' at or after pos_, or data_.size()
};

}  // namespace txflow

#endif  // TXFLOW_CSV_RECORD_SCANNER_H_
