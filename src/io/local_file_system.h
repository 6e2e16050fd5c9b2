// FileSystem over a local directory.
//
// Atomic write: the data goes to a staging file "<dir>/.txflow-tmp-<pid>-<n>"
// in the target's directory, is fsynced, then renamed over the key and the
// directory is fsynced. A crash leaves either the old object or the new one,
// plus at most a staging file that List hides.
//
// Conditional writes and versions: every write renames under an exclusive
// flock(2) on the target's directory, so create-only and replace-if-match are
// atomic against every txflow process on this machine. The version is
// "<mtime ns>-<inode>-<size>"; under the lock each write sets the new file's
// mtime strictly above the replaced one's, so a version never repeats for a
// key. (flock does not extend over NFS; a root shared between machines belongs
// on s3.)
#ifndef TXFLOW_IO_LOCAL_FILE_SYSTEM_H_
#define TXFLOW_IO_LOCAL_FILE_SYSTEM_H_

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "txflow/file_system.h"

struct stat;

namespace txflow {

class LocalFileSystem final : public FileSystem {
 public:
  // `root_dir` is a local path (relative or absolute); `display_root` is how
  // the user named it, used in messages.
  LocalFileSystem(std::string root_dir, std::string display_root);

  std::string Uri(std::string_view key) const override;
  Result<std::string> Read(std::string_view key) override;
  Status ReadInto(std::string_view key, std::string* out) override;
  Result<ObjectBytes> ReadMapped(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override;
  Result<std::vector<ObjectInfo>> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;

 private:
  std::string PathOf(std::string_view key) const;
  // The open file of `key` (a descriptor the caller closes) and its status
  // in *st; NotFound for a directory.
  Result<int> OpenToRead(std::string_view key, struct stat* st);
  // Once per directory per process: removes staging files of dead writers.
  void SweepStagingFiles(const std::string& dir);

  std::string root_;
  std::string display_root_;
  std::atomic<uint64_t> temp_counter_{0};
  std::mutex swept_mu_;
  std::set<std::string> swept_dirs_;  // GUARDED_BY(swept_mu_)
};

}  // namespace txflow

#endif  // TXFLOW_IO_LOCAL_FILE_SYSTEM_H_
