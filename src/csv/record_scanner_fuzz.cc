// libFuzzer target: where records end. Properties, for any bytes:
// RecordReader's records concatenate back to the input and every record but
// the last ends with '\n'; ScanRecords(in, k) ends exactly where the reader's
// k-th record ends, for every k up to the number of complete records, and at
// most one record (a trailing one, maybe inside an open quote) lies beyond.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "csv/record_scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  txflow::RecordReader reader(in);
  std::vector<size_t> ends;  // offset after each record
  std::string joined;
  std::string_view record;
  while (reader.Next(&record)) {
    if (record.empty()) std::abort();
    if (!ends.empty() && joined.back() != '\n') std::abort();
    joined.append(record);
    ends.push_back(joined.size());
    if (reader.position() != joined.size()) std::abort();
  }
  if (joined != in) std::abort();
  const txflow::ScanResult all = txflow::ScanRecords(in, SIZE_MAX);
  if (all.records > ends.size() || ends.size() > all.records + 1) std::abort();
  if (all.records > 0 && all.bytes != ends[all.records - 1]) std::abort();
  if (all.records == 0 && all.bytes != 0) std::abort();
  for (size_t k : {size_t{1}, all.records / 2, all.records}) {
    if (k == 0 || k > all.records) continue;
    const txflow::ScanResult some = txflow::ScanRecords(in, k);
    if (some.records != k || some.bytes != ends[k - 1]) std::abort();
  }
  return 0;
}
