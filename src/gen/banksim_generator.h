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
Result<DatasetStats> GenerateDataset(const std::string& dir,
                                     const GeneratorOptions& options);

}  // namespace txflow

#endif  // TXFLOW_GEN_BANKSIM_GENERATOR_H_
