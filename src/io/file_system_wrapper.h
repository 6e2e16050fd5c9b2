// A FileSystem that forwards every call to another one it owns, so a test or a
// decorator (fault injection, retries, metrics) overrides only what it needs.
#ifndef TXFLOW_IO_FILE_SYSTEM_WRAPPER_H_
#define TXFLOW_IO_FILE_SYSTEM_WRAPPER_H_

#include <memory>

#include "txflow/file_system.h"

namespace txflow {

class FileSystemWrapper : public FileSystem {
 public:
  // REQUIRES: base != nullptr.
  explicit FileSystemWrapper(std::unique_ptr<FileSystem> base)
      : base_(std::move(base)) {}

  FileSystem* base() const { return base_.get(); }

  std::string Uri(std::string_view key) const override {
    return base_->Uri(key);
  }
  Result<std::string> Read(std::string_view key) override {
    return base_->Read(key);
  }
  Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                uint64_t length) override {
    return base_->ReadRange(key, offset, length);
  }
  Result<ObjectInfo> Stat(std::string_view key) override {
    return base_->Stat(key);
  }
  Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) override {
    return base_->Write(key, data, options);
  }
  Result<std::vector<ObjectInfo>> List(const ListOptions& options) override {
    return base_->List(options);
  }
  Status Delete(std::string_view key) override { return base_->Delete(key); }

 private:
  std::unique_ptr<FileSystem> base_;
};

}  // namespace txflow

#endif  // TXFLOW_IO_FILE_SYSTEM_WRAPPER_H_
