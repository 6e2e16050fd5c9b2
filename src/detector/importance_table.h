// The optional importance table (SPEC §2.2): the weight of a transaction is
// the mean Weight of the table's rows with the same (customer, merchant,
// category). The mean is exact: each Weight is read exactly (up to 18
// decimals), the sum of a key is exact, and only the mean is rounded, once,
// half away from zero to 10^-6 units (rows 0.0000005 and 0.0000004 give
// 0.45 units -> 0). Immutable after Parse; safe to share between threads.
#ifndef TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_
#define TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "txflow/file_system.h"
#include "txflow/status.h"

namespace txflow {

class ImportanceTable {
 public:
  // Header-driven (Source, Target, Weight, typeTrans; case-insensitive; other
  // columns ignored). A bad row is InvalidArgument naming `uri`, the line and
  // the cause: the table is configuration, so it fails fast. Over 4 MB of
  // text the fingerprint is computed on a second thread meanwhile (joined
  // before Parse returns).
  static Result<ImportanceTable> Parse(std::string_view text,
                                       const std::string& uri);
  // The same for a caller that has the fingerprint, Crc32c(text), already.
  static Result<ImportanceTable> Parse(std::string_view text,
                                       const std::string& uri,
                                       uint32_t fingerprint);

  // Mean weight in 10^-6 units, or nullopt when no row matches.
  std::optional<int64_t> Find(std::string_view customer,
                              std::string_view merchant,
                              std::string_view category) const {
    return Find(
        customer, merchant, category,
        KeyHash(FieldHash(customer), FieldHash(merchant), FieldHash(category)));
  }
  // The same, for a caller that has the key's hash (KeyHash) already.
  std::optional<int64_t> Find(std::string_view customer,
                              std::string_view merchant,
                              std::string_view category,
                              uint64_t key_hash) const;

  // A key's hash is made of its fields' hashes, so a caller that already
  // hashed the customer and the merchant (the detector does, for its own
  // tables) pays only for the mixing.
  static uint64_t FieldHash(std::string_view field) {
    return std::hash<std::string_view>()(field);
  }
  static uint64_t KeyHash(uint64_t customer_hash, uint64_t merchant_hash,
                          uint64_t category_hash);

  // Starts loading the slot Find() will read first for the key with this
  // hash. A hint only.
  void Prefetch(uint64_t key_hash) const;

  size_t size() const { return keys_; }
  // Bytes the table holds on the heap (slots and records), for reports.
  size_t memory_bytes() const { return slots_.size() + arena_.size(); }
  // CRC-32C of the table's bytes: a checkpoint records it so a restart with
  // another table is refused rather than silently mixing weights.
  uint32_t fingerprint() const { return fingerprint_; }

 private:
  // Zeroed heap memory. Large blocks are mapped directly (Linux: with huge
  // pages advised), so the pages of a block sized for the worst case cost
  // only when written, and Shrink returns the tail without a copy.
  class Block {
   public:
    Block() = default;
    explicit Block(size_t bytes);
    Block(const Block& other);
    Block& operator=(const Block& other);
    Block(Block&& other) noexcept { Swap(other); }
    Block& operator=(Block&& other) noexcept {
      Block(std::move(other)).Swap(*this);
      return *this;
    }
    ~Block();
    char* data() const { return data_; }
    size_t size() const { return size_; }
    // Keeps the first `bytes` (<= size()).
    void Shrink(size_t bytes);

   private:
    void Swap(Block& other) noexcept;
    char* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
  };

  // Open addressing: a slot holds the key hash's top 24 bits and, below
  // them, 1 + the offset of the key's record in arena_ (0: empty). A record
  // is the mean (int64), the key's size (uint32) and the key's bytes
  // (customer and merchant each after its size, then category). A lookup reads
  // one slot and, when the 24 bits match, one record; it allocates nothing.
  static constexpr int kOffsetBits = 40;
  static constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;
  uint64_t slot(size_t i) const {
    return reinterpret_cast<const uint64_t*>(slots_.data())[i];
  }
  // The record for (customer, merchant, category) (hash `h`), or nullptr.
  const char* Lookup(std::string_view customer, std::string_view merchant,
                     std::string_view category, uint64_t h) const;
  // Parse, with the fingerprint computed here unless `known`.
  static Result<ImportanceTable> ParseKnowing(std::string_view text,
                                              const std::string& uri,
                                              std::optional<uint32_t> known);
  // Inserts slot `value` for hash `h` (the key is not present).
  void Place(uint64_t h, uint64_t value);

  Block slots_;  // uint64_t each; a power of two of them, or none
  size_t slot_mask_ = 0;
  Block arena_;  // records, back to back
  size_t keys_ = 0;
  uint32_t fingerprint_ = 0;
};

// An importance table read and parsed on a thread of its own, so that a
// detector can restore its state meanwhile (at 100 M records both take about
// a second, and the restore leaves a core idle while it reads): Fingerprint()
// waits for the bytes and their checksum, all a restore checks; Wait() for
// the table. Not thread-safe: one owner calls Fingerprint() and Wait().
class PendingImportance {
 public:
  // Starts `read` (the table's bytes, or why not), then the checksum and
  // the parse, on a thread of its own. `uri` names the table in errors.
  PendingImportance(std::function<Result<ObjectBytes>()> read, std::string uri);
  // The same for bytes already read.
  PendingImportance(std::string text, std::string uri);
  ~PendingImportance();  // waits for the parse
  PendingImportance(const PendingImportance&) = delete;
  PendingImportance& operator=(const PendingImportance&) = delete;

  // Waits for the read: Crc32c of the table's bytes, or the read's error.
  Result<uint32_t> Fingerprint();
  // Waits for the parse: the table (owned by this object), or the read's or
  // Parse's error; the same answer on every call.
  Result<const ImportanceTable*> Wait();

 private:
  std::mutex mu_;
  std::condition_variable read_;  // signalled once fingerprint_ is set
  std::optional<Result<uint32_t>> fingerprint_;    // guarded by mu_
  std::optional<Result<ImportanceTable>> result_;  // set before the join
  std::thread thread_;  // last: it writes the members above
};

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_IMPORTANCE_TABLE_H_
