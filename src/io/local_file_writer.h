// Streams a large local file that appears atomically when complete: bytes go
// to a staging file beside the target ("<name>.txflow-tmp-<pid>"), and Commit()
// fsyncs and renames it into place. Until Commit() succeeds, the target keeps
// its previous content (or stays absent); the destructor of an uncommitted
// writer removes the staging file.
//
// For outputs too large for FileSystem::Write's single buffer (the generator's
// datasets). Local paths only. Not thread-safe.
#ifndef TXFLOW_IO_LOCAL_FILE_WRITER_H_
#define TXFLOW_IO_LOCAL_FILE_WRITER_H_

#include <string>
#include <string_view>

#include "txflow/status.h"

namespace txflow {

class LocalFileWriter {
 public:
  LocalFileWriter() = default;
  LocalFileWriter(const LocalFileWriter&) = delete;
  LocalFileWriter& operator=(const LocalFileWriter&) = delete;
  ~LocalFileWriter();

  // Creates the staging file for `path` (its directory must exist).
  Status Open(const std::string& path);
  Status Append(std::string_view data);
  Status Commit();

 private:
  int fd_ = -1;
  std::string path_;
  std::string staging_;
};

}  // namespace txflow

#endif  // TXFLOW_IO_LOCAL_FILE_WRITER_H_
