// Synthetic transactions in BankSim's layout (SPEC §2), shaped so that all
// three detector patterns occur at the default thresholds around 600,000 rows.
// docs/data.md describes the model.
//
// Deterministic: the output is a pure function of (rows, seed). Streaming: the
// generator keeps no per-row or per-customer state; customers and merchants are
// derived from hashes of (seed, index), so memory does not grow with `rows`.
// Not thread-safe; one generator per thread.
#ifndef TXFLOW_GEN_BANKSIM_GENERATOR_H_
#define TXFLOW_GEN_BANKSIM_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/status.h"

namespace txflow {

struct GeneratorOptions {
  uint64_t rows = 600'000;
  uint64_t seed = 1;
  // 0: derive from rows (one customer per 150 rows, at least 20), as BankSim's
  // ~4,100 customers for ~594,000 rows.
  uint64_t customers = 0;
};

inline constexpr std::string_view kTransactionsHeader =
    "step,customer,age,gender,zipcodeOri,merchant,zipMerchant,category,amount,"
    "fraud\n";
inline constexpr std::string_view kImportanceHeader =
    "Source,Target,Weight,typeTrans,fraud\n";
inline constexpr int kMerchants = 50;
// The stream's steps advance as a default 600,000-record dataset's do (180
// steps), so appending to one continues its steps: record 600,000 is step 180.
inline constexpr uint64_t kStreamRecordsPerStep = 600'000 / 180;

// Receives the output in blocks of whole lines; a non-OK status stops the run.
using BlockSink = std::function<Status(std::string_view block)>;

class BankSimGenerator {
 public:
  explicit BankSimGenerator(const GeneratorOptions& options);

  uint64_t customers() const { return customers_; }

  // Header then `rows` records.
  Status WriteTransactions(const BlockSink& sink) const;
  // Header then the importance table (a few rows per customer).
  Status WriteImportance(const BlockSink& sink) const;

  // Appends records first .. first+count-1 of the endless stream behind
  // `txflow gen --append` to *out, whole lines. Record i is a pure function
  // of (seed, customers, i, min_step); its step is i / kStreamRecordsPerStep
  // but never below `min_step` (the last step already in the file), so the
  // steps of a file never go down.
  void AppendStreamRecords(uint64_t first, uint64_t count, uint64_t min_step,
                           std::string* out) const;

 private:
  struct Customer;
  struct Merchant {
    std::string id;             // "M1234567890"
    std::string category;       // "es_transportation"
    std::string quoted_suffix;  // "'M…','28007','es_…',"
    uint64_t base_paise;        // typical amount of the category
    double female_accept;       // < 1: the merchant leans male
  };

  Customer CustomerAt(uint64_t index) const;
  // Formats one record at `p` (room for kMaxLineBytes) drawing from the
  // random stream at *rng_state, which it advances. Returns the end.
  char* AppendRecord(char* p, uint64_t step, uint64_t* rng_state) const;

  GeneratorOptions options_;
  uint64_t customers_;
  std::vector<Merchant> merchants_;
  std::vector<double> merchant_cdf_;
};

struct DatasetStats {
  uint64_t transaction_rows = 0;  // records, header excluded
  uint64_t transaction_bytes = 0;
  uint64_t importance_rows = 0;
  uint64_t importance_bytes = 0;
};

// Writes DIR/transactions.csv and DIR/CustomerImportance.csv, each appearing
// atomically when complete (a failure leaves no partial file under either
// name). DIR must be a local directory; it is created.
// Writes `gen`'s importance table to `path`, appearing atomically when
// complete.
Status WriteImportanceFile(const BankSimGenerator& gen,
                           const std::string& path);

Result<DatasetStats> GenerateDataset(const std::string& dir,
                                     const GeneratorOptions& options);

}  // namespace txflow

#endif  // TXFLOW_GEN_BANKSIM_GENERATOR_H_
