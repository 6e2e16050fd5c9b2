#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/signals.h"
#include "common/log.h"
#include "common/uri.h"
#include "gen/appender.h"
#include "gen/banksim_generator.h"

namespace txflow {
namespace {

// --append: appends to DIR/transactions.csv until --rows or a stop signal.
int RunAppend(const std::string& dir, GeneratorOptions options, bool rows_set,
              const std::string& rate) {
  auto per_second = ParseRate(rate);
  if (!per_second.ok()) {
    std::fprintf(stderr, "txflow gen: --rate: %s\n",
                 per_second.status().message().c_str());
    return kExitUsage;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail("gen",
                Status::IOError(dir + ": create directory: " + ec.message()));
  }
  AppendOptions a;
  a.generator = options;
  a.generator.rows = GeneratorOptions().rows;  // --rows only says when to stop
  a.records_per_second = *per_second;
  a.until_records = rows_set ? options.rows : 0;
  a.importance_path = dir + "/CustomerImportance.csv";
  InstallStopHandlers();
  AppendStats stats;
  const std::string path = dir + "/transactions.csv";
  LogInfo("gen: appending to " + path + " at " + rate);
  Status s = AppendTransactions(
      path, a,
      [](std::chrono::milliseconds d) { return SleepUnlessStopped(d); },
      &stats);
  if (stats.torn_bytes_cut > 0) {
    LogInfo("gen: cut a torn last record (" +
            std::to_string(stats.torn_bytes_cut) + " bytes) before appending");
  }
  if (!s.ok()) return Fail("gen", s);
  char line[256];
  std::snprintf(line, sizeof(line),
                "gen: appended %" PRIu64 " records to %s (%" PRIu64
                " in all) in %.1f s, %.1f records/s, %" PRIu64 " customers",
                stats.appended, path.c_str(),
                stats.records_before + stats.appended, stats.seconds,
                stats.seconds > 0 ? stats.appended / stats.seconds : 0.0,
                stats.customers);
  LogInfo(line);
  return kExitOk;
}

}  // namespace

int RunGen(const Args& args) {
  std::string out;
  GeneratorOptions options;
  bool append = false;
  std::string rate = "1000/s";
  FlagSet flags("txflow gen",
                "Writes DIR/transactions.csv and DIR/CustomerImportance.csv in "
                "BankSim's layout.\nDeterministic for a seed; streams, so any "
                "row count fits in constant memory.\nThe model is described in "
                "docs/data.md.\n\nWith --append, keeps appending records to "
                "DIR/transactions.csv (created if\nabsent) at --rate, whole "
                "records per write, continuing what is there, until\n--rows "
                "records are in the file (if given) or SIGINT/SIGTERM (exit "
                "0).");
  flags.String("out", &out, "DIR", "local directory to write into", true);
  flags.Uint("rows", &options.rows,
             "number of transaction records (--append: stop when the file "
             "holds this many; default: never)");
  flags.Uint("seed", &options.seed, "random seed");
  flags.Uint("customers", &options.customers,
             "number of customers; 0 derives it from --rows (rows/150; "
             "--append: 4000, as a default gen dataset)");
  flags.Bool("append", &append,
             "append to DIR/transactions.csv at --rate until stopped");
  flags.String("rate", &rate, "N/s",
               "--append: records per second (N/s, N/m or N/h)");
  if (int rc = ParseOrExit(flags, "gen", args); rc >= 0) return rc;

  auto uri = ParseUri(out);
  if (!uri.ok()) return Fail("gen", uri.status());
  if (uri->scheme != "file") {
    std::fprintf(stderr,
                 "txflow gen: --out %s: gen writes to a local directory only\n",
                 out.c_str());
    return kExitUsage;
  }
  if (append) {
    return RunAppend(uri->path, options, flags.WasSet("rows"), rate);
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
