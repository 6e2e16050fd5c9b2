#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "common/uri.h"
#include "gen/banksim_generator.h"

namespace txflow {

int RunGen(const Args& args) {
  std::string out;
  GeneratorOptions options;
  FlagSet flags("txflow gen",
                "Writes DIR/transactions.csv and DIR/CustomerImportance.csv in "
                "BankSim's layout.\nDeterministic for a seed; streams, so any "
                "row count fits in constant memory.\nThe model is described in "
                "docs/data.md.");
  flags.String("out", &out, "DIR", "local directory to write into", true);
  flags.Uint("rows", &options.rows, "number of transaction records");
  flags.Uint("seed", &options.seed, "random seed");
  flags.Uint("customers", &options.customers,
             "number of customers; 0 derives it from --rows (rows/150)");
  if (int rc = ParseOrExit(flags, "gen", args); rc >= 0) return rc;

  auto uri = ParseUri(out);
  if (!uri.ok()) return Fail("gen", uri.status());
  if (uri->scheme != "file") {
    std::fprintf(stderr,
                 "txflow gen: --out %s: gen writes to a local directory only\n",
                 out.c_str());
    return kExitUsage;
  }
  const auto start = std::chrono::steady_clock::now();
  auto stats = GenerateDataset(uri->path, options);
  if (!stats.ok()) return Fail("gen", stats.status());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "gen: %llu records (%.1f MB) -> %s/transactions.csv, %llu importance "
      "rows -> "
      "%s/CustomerImportance.csv in %.2f s (%.2f M records/s)\n",
      static_cast<unsigned long long>(stats->transaction_rows),
      stats->transaction_bytes / 1e6, uri->path.c_str(),
      static_cast<unsigned long long>(stats->importance_rows),
      uri->path.c_str(), secs,
      secs > 0 ? stats->transaction_rows / secs / 1e6 : 0.0);
  return kExitOk;
}

}  // namespace txflow
