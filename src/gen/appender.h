// `txflow gen --append`: a live source for the streaming demo and tests. Keeps
// appending BankSim-shaped records (BankSimGenerator::AppendStreamRecords) to
// a local transactions.csv at a steady rate, continuing what is there.
//
// Readers (the chunker) may read the file at any instant: every batch of whole
// records goes out in one write(2) on an O_APPEND descriptor, so a reader
// sees a partial record at EOF only while that write is in progress (or, for
// a short write, until the next write finishes it). A torn tail left by a
// crashed appender is cut off at start-up (a record without its '\n' was
// never complete, so no chunker has taken it).
//
// Continuation: the records already in the file are counted; the new ones
// are the stream's records from that index on, their steps never below the
// last step in the file, drawn from the customers of GeneratorOptions (the
// default, 4,000, is the population of the default 600,000-record dataset,
// so `txflow gen` then `txflow gen --append` keeps its customers; a dataset
// made with other --rows/--customers/--seed is continued with the same
// --customers and --seed).
// Not thread-safe.
#ifndef TXFLOW_GEN_APPENDER_H_
#define TXFLOW_GEN_APPENDER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "gen/banksim_generator.h"
#include "txflow/status.h"

namespace txflow {

struct AppendOptions {
  // seed and customers (0: derived from rows, as for a dataset of that
  // size); rows is read only to derive customers.
  GeneratorOptions generator;
  double records_per_second = 1000;
  // Stop once the file holds this many records; 0: until stopped.
  uint64_t until_records = 0;
  // Time between writes; each write carries the records due by then.
  std::chrono::milliseconds interval{100};
  // If set and absent, the importance table of the same customers is
  // written there first (atomically), so the detector can use weights.
  std::string importance_path;
};

struct AppendStats {
  uint64_t records_before = 0;  // records in the file at start
  uint64_t appended = 0;
  uint64_t torn_bytes_cut = 0;  // a crashed appender's partial record
  uint64_t customers = 0;
  double seconds = 0;
};

// Sleeps up to the given time; false when a stop was requested.
using InterruptibleSleep = std::function<bool(std::chrono::milliseconds)>;

// Appends to `path` (created with the header if absent or empty) until
// `until_records` or until `sleep` returns false. A file whose header is not
// BankSim's is refused (InvalidArgument), untouched. `stats` is filled in
// also on error.
Status AppendTransactions(const std::string& path, const AppendOptions& options,
                          const InterruptibleSleep& sleep, AppendStats* stats);

// "2000/s", "2000" (per second), "120/m" -> records per second.
Result<double> ParseRate(const std::string& text);

}  // namespace txflow

#endif  // TXFLOW_GEN_APPENDER_H_
