#include "io/mem_file_system.h"

#include <algorithm>
#include <atomic>

namespace txflow {
namespace {

std::atomic<uint64_t> g_next_version{1};

}  // namespace

std::shared_ptr<MemStore> MemStore::Named(const std::string& name) {
  static std::mutex registry_mu;
  static auto* registry = new std::map<std::string, std::shared_ptr<MemStore>>;
  std::lock_guard<std::mutex> lock(registry_mu);
  auto& slot = (*registry)[name];
  if (!slot) slot = std::make_shared<MemStore>();
  return slot;
}

MemFileSystem::MemFileSystem(std::shared_ptr<MemStore> store,
                             std::string prefix, std::string display_root)
    : store_(std::move(store)),
      prefix_(std::move(prefix)),
      display_root_(std::move(display_root)) {
  if (!prefix_.empty() && prefix_.back() != '/') prefix_ += '/';
  while (!display_root_.empty() && display_root_.back() == '/') {
    display_root_.pop_back();
  }
}

std::string MemFileSystem::FullKey(std::string_view key) const {
  return prefix_ + std::string(key);
}

std::string MemFileSystem::Uri(std::string_view key) const {
  if (key.empty()) return display_root_;
  return display_root_ + "/" + std::string(key);
}

Result<std::string> MemFileSystem::Read(std::string_view key) {
  return ReadRange(key, 0, UINT64_MAX);
}

Result<std::string> MemFileSystem::ReadRange(std::string_view key,
                                             uint64_t offset, uint64_t length) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(store_->mu);
  auto it = store_->objects.find(FullKey(key));
  if (it == store_->objects.end()) {
    return Status::NotFound(Uri(key) + ": no such object");
  }
  const std::string& d = it->second.data;
  if (offset >= d.size()) return std::string();
  return d.substr(
      static_cast<size_t>(offset),
      static_cast<size_t>(std::min<uint64_t>(length, d.size() - offset)));
}

Result<ObjectInfo> MemFileSystem::Stat(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(store_->mu);
  auto it = store_->objects.find(FullKey(key));
  if (it == store_->objects.end()) {
    return Status::NotFound(Uri(key) + ": no such object");
  }
  return ObjectInfo{std::string(key), it->second.data.size(),
                    std::to_string(it->second.version)};
}

Result<ObjectInfo> MemFileSystem::Write(std::string_view key,
                                        std::string_view data,
                                        const WriteOptions& options) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(store_->mu);
  const std::string full = FullKey(key);
  auto it = store_->objects.find(full);
  const bool exists = it != store_->objects.end();
  if (options.mode == WriteMode::kCreateOnly && exists) {
    return Status::AlreadyExists(Uri(key) + ": already exists");
  }
  if (options.mode == WriteMode::kReplaceIfMatch &&
      (!exists ||
       std::to_string(it->second.version) != options.expected_version)) {
    return Status::PreconditionFailed(
        Uri(key) + (exists
                        ? ": changed since version " + options.expected_version
                        : ": does not exist"));
  }
  MemStore::Object& obj = store_->objects[full];
  obj.data.assign(data);
  obj.version = g_next_version.fetch_add(1);
  return ObjectInfo{std::string(key), obj.data.size(),
                    std::to_string(obj.version)};
}

Result<std::vector<ObjectInfo>> MemFileSystem::List(
    const ListOptions& options) {
  std::vector<ObjectInfo> out;
  const std::string full_prefix = prefix_ + options.prefix;
  const std::string after = prefix_ + options.start_after;
  std::lock_guard<std::mutex> lock(store_->mu);
  auto it = (!options.start_after.empty() && after >= full_prefix)
                ? store_->objects.upper_bound(after)
                : store_->objects.lower_bound(full_prefix);
  for (; it != store_->objects.end(); ++it) {
    if (it->first.compare(0, full_prefix.size(), full_prefix) != 0) break;
    out.push_back(ObjectInfo{it->first.substr(prefix_.size()),
                             it->second.data.size(),
                             std::to_string(it->second.version)});
    if (options.max_keys > 0 && out.size() == options.max_keys) break;
  }
  return out;
}

Status MemFileSystem::Delete(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(store_->mu);
  store_->objects.erase(FullKey(key));
  return Status::OK();
}

}  // namespace txflow
