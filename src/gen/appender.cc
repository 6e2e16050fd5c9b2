#include "gen/appender.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace txflow {
namespace {

Status Errno(const std::string& path, const char* what) {
  const int e = errno;
  std::string message = path + ": " + what + ": " + std::strerror(e);
  if (e == ENOSPC) return Status::NoSpace(message);
  return Status::IOError(message);
}

// Closes the descriptor on every path out of AppendTransactions.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(path, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// What is in the file already: whole records, and the last one's step.
struct Existing {
  uint64_t size = 0;  // bytes up to the end of the last whole line
  uint64_t records = 0;
  uint64_t last_step = 0;
  bool has_header = false;
};

// Reads the file once, front to back: the header, the record count, the last
// complete line. O(file), at start-up only.
Status Scan(int fd, const std::string& path, Existing* e) {
  std::string header, last_line, line;
  std::string buf(1 << 20, '\0');
  uint64_t pos = 0, lines = 0;
  while (true) {
    const ssize_t n =
        ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(path, "read");
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[static_cast<size_t>(i)];
      if (c != '\n') {
        if (line.size() < 4096) line += c;
        continue;
      }
      if (lines++ == 0) header = line + '\n';
      last_line = std::move(line);
      line.clear();
      e->size = pos + static_cast<uint64_t>(i) + 1;
    }
    pos += static_cast<uint64_t>(n);
  }
  if (lines == 0) return Status::OK();  // empty, or a torn header: rewrite
  if (header != kTransactionsHeader) {
    return Status::InvalidArgument(
        path +
        ": not a txflow gen transactions file (its header differs), "
        "refusing to append");
  }
  e->has_header = true;
  e->records = lines - 1;
  if (e->records > 0)
    e->last_step = std::strtoull(last_line.c_str(), nullptr, 10);
  return Status::OK();
}

}  // namespace

Result<double> ParseRate(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string number = text.substr(0, slash);
  const std::string unit =
      slash == std::string::npos ? "s" : text.substr(slash + 1);
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  const double per = unit == "s"   ? 1
                     : unit == "m" ? 60
                     : unit == "h" ? 3600
                                   : 0;
  if (number.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v) ||
      per == 0) {
    return Status::InvalidArgument("'" + text +
                                   "' is not a rate such as 2000/s, 120/m");
  }
  return v / per;
}

Status AppendTransactions(const std::string& path, const AppendOptions& options,
                          const InterruptibleSleep& sleep, AppendStats* stats) {
  Fd file;
  file.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (file.fd < 0) return Errno(path, "open");
  Existing e;
  TXFLOW_RETURN_IF_ERROR(Scan(file.fd, path, &e));
  const off_t size = ::lseek(file.fd, 0, SEEK_END);
  if (size < 0) return Errno(path, "seek");
  if (static_cast<uint64_t>(size) > e.size) {
    stats->torn_bytes_cut = static_cast<uint64_t>(size) - e.size;
    if (::ftruncate(file.fd, static_cast<off_t>(e.size)) != 0)
      return Errno(path, "truncate torn tail");
  }
  if (!e.has_header) {
    TXFLOW_RETURN_IF_ERROR(WriteAll(file.fd, kTransactionsHeader, path));
  }
  const BankSimGenerator gen(options.generator);
  stats->records_before = e.records;
  stats->customers = gen.customers();
  if (!options.importance_path.empty() &&
      ::access(options.importance_path.c_str(), F_OK) != 0) {
    TXFLOW_RETURN_IF_ERROR(WriteImportanceFile(gen, options.importance_path));
  }

  const auto start = std::chrono::steady_clock::now();
  // Records due at time t are rate * t: a late write catches up, so the mean
  // rate holds however long each write and sleep take.
  uint64_t next = e.records;
  std::string batch;
  while (options.until_records == 0 || next < options.until_records) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    uint64_t due =
        e.records + static_cast<uint64_t>(elapsed * options.records_per_second);
    if (options.until_records != 0) due = std::min(due, options.until_records);
    if (due > next) {
      batch.clear();
      gen.AppendStreamRecords(next, due - next, e.last_step, &batch);
      TXFLOW_RETURN_IF_ERROR(WriteAll(file.fd, batch, path));
      next = due;
      stats->appended = next - e.records;
    }
    if (options.until_records != 0 && next >= options.until_records) break;
    if (!sleep(options.interval)) break;
  }
  stats->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return Status::OK();
}

}  // namespace txflow
