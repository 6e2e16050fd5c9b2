// Times ImportanceTable::Parse on a real table and, for the breakdown, the
// passes it is made of, each on its own: the read, the CRC, the record scan,
// the field split, the number parse and the hashing. Medians of RUNS runs.
//
//   importance_table_bench FILE [RUNS [parse]]
//
// Not a test: it prints numbers for docs and reports.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "csv/record_scanner.h"
#include "csv/row_decoder.h"
#include "detector/importance_table.h"

namespace txflow {
namespace {

// As LocalFileSystem::ReadInto: one buffer of the file's size, read(2) into.
std::string ReadAll(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(path);
    std::exit(1);
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  ssize_t n;
  while (done < data.size() &&
         (n = ::read(fd, data.data() + done, data.size() - done)) > 0) {
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  ::close(fd);
  return data;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Time(int runs, const std::function<void()>& f) {
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  return Median(ms);
}

volatile uint64_t sink;

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [RUNS]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string text = ReadAll(argv[1]);
  const double mb = static_cast<double>(text.size()) / 1e6;
  auto row = [&](const char* what, double ms) {
    std::printf("%-34s %9.1f ms %8.0f MB/s\n", what, ms, mb / (ms / 1e3));
  };
  std::printf("%s: %.1f MB, median of %d runs\n", argv[1], mb, runs);
  // "parse": only the whole load, for perf record.
  const bool only_parse = argc > 3 && std::string(argv[3]) == "parse";
  if (!only_parse) {
    row("read (as LocalFileSystem)",
        Time(runs, [&] { sink = ReadAll(argv[1]).size(); }));
    row("crc32c", Time(runs, [&] { sink = Crc32c(text); }));
    row("newline count (memchr)", Time(runs, [&] {
          uint64_t n = 0;
          for (const char* p = text.data();
               (p = static_cast<const char*>(
                    std::memchr(p, '\n', text.data() + text.size() - p)));
               ++p) {
            ++n;
          }
          sink = n;
        }));
    row("RecordReader", Time(runs, [&] {
          RecordReader reader(text);
          std::string_view rec;
          uint64_t n = 0;
          while (reader.Next(&rec)) n += rec.size();
          sink = n;
        }));
    std::vector<std::string_view> v;
    std::string scratch;
    row("RecordReader + SplitFields", Time(runs, [&] {
          RecordReader reader(text);
          std::string_view rec;
          uint64_t n = 0;
          while (reader.Next(&rec)) {
            SplitFields(rec, &v, &scratch);
            n += v.size();
          }
          sink = n;
        }));
    row("  + ParseDecimalExact(Weight)", Time(runs, [&] {
          RecordReader reader(text);
          std::string_view rec;
          uint64_t n = 0;
          reader.Next(&rec);
          while (reader.Next(&rec)) {
            SplitFields(rec, &v, &scratch);
            if (v.size() > 2) {
              auto w = ParseDecimalExact(v[2], 18);
              n += w ? static_cast<uint64_t>(*w) : 0;
            }
          }
          sink = n;
        }));
    row("  + key hash", Time(runs, [&] {
          RecordReader reader(text);
          std::string_view rec;
          uint64_t n = 0;
          reader.Next(&rec);
          while (reader.Next(&rec)) {
            SplitFields(rec, &v, &scratch);
            if (v.size() > 3) {
              auto w = ParseDecimalExact(v[2], 18);
              n += w ? static_cast<uint64_t>(*w) : 0;
              n += ImportanceTable::KeyHash(ImportanceTable::FieldHash(v[0]),
                                            ImportanceTable::FieldHash(v[1]),
                                            ImportanceTable::FieldHash(v[3]));
            }
          }
          sink = n;
        }));
  }
  size_t keys = 0;
  size_t bytes = 0;
  row("ImportanceTable::Parse", Time(runs, [&] {
        auto t = ImportanceTable::Parse(text, argv[1]);
        if (!t.ok()) {
          std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
          std::exit(1);
        }
        keys = t->size();
        bytes = t->memory_bytes();
      }));
  std::printf("keys %zu, table %.1f MB, %.1f bytes/key\n", keys, bytes / 1e6,
              static_cast<double>(bytes) / static_cast<double>(keys));
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.0f MB\n", ru.ru_maxrss / 1e3);
  return 0;
}

}  // namespace
}  // namespace txflow

int main(int argc, char** argv) { return txflow::Main(argc, argv); }
