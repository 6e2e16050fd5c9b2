// FileSystem over an in-process map, for unit tests and fault tests.
//
// Stores are named: every "mem://<store>/..." URI in one process refers to the
// same MemStore, so a test can hand one URI to a chunker and a detector and see
// one bucket. Stores live until the process exits. Versions come from a
// process-wide counter, so they never repeat.
#ifndef TXFLOW_IO_MEM_FILE_SYSTEM_H_
#define TXFLOW_IO_MEM_FILE_SYSTEM_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "txflow/file_system.h"

namespace txflow {

class MemStore {
 public:
  struct Object {
    std::string data;
    uint64_t version = 0;
  };

  // The process-wide store called `name`, created empty on first use. Shared
  // ownership: every file system opened on the name holds it.
  static std::shared_ptr<MemStore> Named(const std::string& name);

  std::mutex mu;
  std::map<std::string, Object> objects;  // GUARDED_BY(mu)
};

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem(std::shared_ptr<MemStore> store, std::string prefix,
                std::string display_root);

  std::string Uri(std::string_view key) const override;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                uint64_t length) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override;
  Result<std::vector<ObjectInfo>> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;

 private:
  std::string FullKey(std::string_view key) const;

  std::shared_ptr<MemStore> store_;
  std::string prefix_;  // "" or "a/b/"
  std::string display_root_;
};

}  // namespace txflow

#endif  // TXFLOW_IO_MEM_FILE_SYSTEM_H_
