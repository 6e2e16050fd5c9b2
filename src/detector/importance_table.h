// The optional importance table (SPEC §2.2): the weight of a transaction is
// the mean Weight of the table's rows with the same (customer, merchant,
// category). Each Weight is parsed exactly to 10^-6 units (half away from
// zero); the mean of a key is sum / count, rounded half away from zero to
// 10^-6 units. Immutable after Parse; safe to share between threads.
#ifndef TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_
#define TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/status.h"

namespace txflow {

class ImportanceTable {
 public:
  // Header-driven (Source, Target, Weight, typeTrans; case-insensitive; other
  // columns ignored). A bad row is InvalidArgument naming `uri`, the line and
  // the cause: the table is configuration, so it fails fast.
  static Result<ImportanceTable> Parse(std::string_view text,
                                       const std::string& uri);

  // Mean weight in 10^-6 units, or nullopt when no row matches.
  std::optional<int64_t> Find(std::string_view customer,
                              std::string_view merchant,
                              std::string_view category) const;

  size_t size() const { return entries_.size(); }
  // CRC-32C of the table's bytes: a checkpoint records it so a restart with
  // another table is refused rather than silently mixing weights.
  uint32_t fingerprint() const { return fingerprint_; }

 private:
  struct Entry {
    uint64_t hash;
    uint32_t key_offset, key_size;  // the key's bytes in keys_
    int64_t mean;
  };
  // Open addressing over entries_ (slot: entry index + 1, 0 empty), keys in
  // one arena: a lookup touches one slot, one entry and one key, and
  // allocates nothing.
  std::vector<uint32_t> slots_;
  std::vector<Entry> entries_;
  std::string keys_;
  uint32_t fingerprint_ = 0;
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_
