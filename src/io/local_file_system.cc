#include "io/local_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace txflow {
namespace {

Status ErrnoStatus(int err, const std::string& uri, std::string_view what) {
  std::string m = uri + ": " + std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(m));
    case EEXIST:
      return Status::AlreadyExists(std::move(m));
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(std::move(m));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(m));
    case EINTR:
    case EAGAIN:
    case ETIMEDOUT:
    case EMFILE:
    case ENFILE:
      return Status::Unavailable(std::move(m));
    default:
      return Status::IOError(std::move(m));
  }
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string VersionOf(const struct stat& st) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llx-%llx-%llx",
                static_cast<unsigned long long>(MtimeNs(st)),
                static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size));
  return buf;
}

std::string_view DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool IsTempName(std::string_view name) {
  return name.find(kTempMarker) != std::string_view::npos;
}

// mkdir -p, fsyncing each parent whose entry list changed so that the new
// directory survives a power cut together with the file renamed into it.
Status MakeDirs(const std::string& dir, const std::string& uri) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::IOError(uri + ": " + dir + " exists and is not a directory");
  }
  const std::string parent(DirName(dir));
  if (parent != dir) TXFLOW_RETURN_IF_ERROR(MakeDirs(parent, uri));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, uri, "create directory " + dir);
  }
  Fd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (pfd.get() >= 0) ::fsync(pfd.get());
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& uri) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, uri, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// The rest of the open file `fd` (of status `st`) into *out.
Status ReadAll(int fd, const struct stat& st, const std::string& uri,
               std::string* out) {
  // Only bytes beyond the buffer's old size are zeroed: reusing a buffer of
  // the previous chunk's size costs no page faults and no memset.
  std::string& data = *out;
  data.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (true) {
    if (done == data.size()) data.resize(done + 65536);  // grew since fstat
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, uri, "read");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return Status::OK();
}

}  // namespace

LocalFileSystem::LocalFileSystem(std::string root_dir, std::string display_root)
    : root_(std::move(root_dir)), display_root_(std::move(display_root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  while (display_root_.size() > 1 && display_root_.back() == '/') {
    display_root_.pop_back();
  }
}

std::string LocalFileSystem::PathOf(std::string_view key) const {
  std::string p = root_;
  if (p != "/") p += '/';
  p += key;
  return p;
}

std::string LocalFileSystem::Uri(std::string_view key) const {
  if (key.empty()) return display_root_;
  std::string u = display_root_;
  if (u.back() != '/') u += '/';
  u += key;
  return u;
}

Result<std::string> LocalFileSystem::Read(std::string_view key) {
  std::string data;
  TXFLOW_RETURN_IF_ERROR(ReadInto(key, &data));
  return data;
}

Status LocalFileSystem::ReadInto(std::string_view key, std::string* out) {
  struct stat st;
  TXFLOW_ASSIGN_OR_RETURN(int raw, OpenToRead(key, &st));
  Fd fd(raw);
  return ReadAll(fd.get(), st, Uri(key), out);
}

Result<ObjectBytes> LocalFileSystem::ReadMapped(std::string_view key) {
  struct stat st;
  TXFLOW_ASSIGN_OR_RETURN(int raw, OpenToRead(key, &st));
  Fd fd(raw);
  const size_t size = static_cast<size_t>(st.st_size);
  if (size >= (size_t{1} << 20)) {
    // Populated at once: the caller reads it all, and one call maps the
    // page cache's pages where faults would map 16 at a time.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                       fd.get(), 0);
    if (map != MAP_FAILED) {
      std::shared_ptr<const void> keeper(
          map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
      return ObjectBytes(std::string_view(static_cast<const char*>(map), size),
                         std::move(keeper));
    }
    // Not mappable (a special file, say): read it.
  }
  std::string data;
  TXFLOW_RETURN_IF_ERROR(ReadAll(fd.get(), st, Uri(key), &data));
  return ObjectBytes(std::move(data));
}

Result<int> LocalFileSystem::OpenToRead(std::string_view key, struct stat* st) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  Fd fd(::open(PathOf(key).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, Uri(key), "open");
  if (::fstat(fd.get(), st) != 0) return ErrnoStatus(errno, Uri(key), "stat");
  if (S_ISDIR(st->st_mode)) {
    return Status::NotFound(Uri(key) + ": is a directory");
  }
  return fd.Release();
}

Result<std::string> LocalFileSystem::ReadRange(std::string_view key,
                                               uint64_t offset,
                                               uint64_t length) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  const std::string uri = Uri(key);
  Fd fd(::open(PathOf(key).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, uri, "open");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, uri, "stat");
  if (S_ISDIR(st.st_mode)) return Status::NotFound(uri + ": is a directory");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset >= size) return std::string();
  std::string data;
  data.resize(static_cast<size_t>(std::min(length, size - offset)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd.get(), data.data() + done, data.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, uri, "read");
    }
    if (n == 0) break;  // truncated since fstat
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Result<ObjectInfo> LocalFileSystem::Stat(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  struct stat st;
  if (::stat(PathOf(key).c_str(), &st) != 0) {
    return ErrnoStatus(errno, Uri(key), "stat");
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound(Uri(key) + ": not a file");
  return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size),
                    VersionOf(st), MtimeNs(st) / 1'000'000};
}

void LocalFileSystem::SweepStagingFiles(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(swept_mu_);
    if (!swept_dirs_.insert(dir).second) return;
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  const std::string prefix(kTempMarker);
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    const size_t at = name.find(prefix);
    if (at == std::string_view::npos) continue;
    // ".txflow-tmp-<pid>-<n>" (FileSystem::Write) or "<file>.txflow-tmp-<pid>".
    long pid = 0;
    for (size_t i = at + prefix.size();
         i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
      pid = pid * 10 + (name[i] - '0');
    }
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;  // alive
    ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
}

Result<ObjectInfo> LocalFileSystem::Write(std::string_view key,
                                          std::string_view data,
                                          const WriteOptions& options) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  const std::string uri = Uri(key);
  const std::string path = PathOf(key);
  const std::string dir(DirName(path));
  struct stat existing;
  if (options.mode == WriteMode::kCreateOnly &&
      ::stat(path.c_str(), &existing) == 0) {
    // Fail before staging and fsyncing data that would be thrown away; the
    // check is repeated under the directory lock below.
    return Status::AlreadyExists(uri + ": already exists");
  }
  TXFLOW_RETURN_IF_ERROR(MakeDirs(dir, uri));
  SweepStagingFiles(dir);

  char name[96];
  std::snprintf(name, sizeof(name), "/%.*s%d-%llu",
                static_cast<int>(kTempMarker.size()), kTempMarker.data(),
                static_cast<int>(::getpid()),
                static_cast<unsigned long long>(temp_counter_.fetch_add(1)));
  const std::string tmp = dir + name;
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoStatus(errno, uri, "create staging file");
  bool staged = true;
  auto cleanup = [&] {
    if (staged) ::unlink(tmp.c_str());
  };
  Status s = WriteAll(fd.get(), data, uri);
  if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus(errno, uri, "fsync");
  if (!s.ok()) {
    cleanup();
    return s;
  }

  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0 || ::flock(dfd.get(), LOCK_EX) != 0) {
    s = ErrnoStatus(errno, uri, "lock directory");
    cleanup();
    return s;
  }
  // Under the directory lock from here: the check and the rename are atomic
  // with respect to every other txflow writer of this directory.
  struct stat old;
  const bool exists = ::stat(path.c_str(), &old) == 0;
  if (options.mode == WriteMode::kCreateOnly && exists) {
    cleanup();
    return Status::AlreadyExists(uri + ": already exists");
  }
  if (options.mode == WriteMode::kReplaceIfMatch &&
      (!exists || VersionOf(old) != options.expected_version)) {
    cleanup();
    return Status::PreconditionFailed(
        uri + (exists ? ": changed since version " + options.expected_version
                      : ": does not exist"));
  }
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t mtime = int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
  if (exists) mtime = std::max(mtime, MtimeNs(old) + 1);
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(mtime / 1'000'000'000);
  times[1].tv_nsec = static_cast<long>(mtime % 1'000'000'000);
  struct stat fresh;
  if (::futimens(fd.get(), times) != 0 || ::fstat(fd.get(), &fresh) != 0) {
    s = ErrnoStatus(errno, uri, "set version");
    cleanup();
    return s;
  }
  int rc;
  if (options.mode == WriteMode::kCreateOnly) {
    rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(),
                     RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {  // file system without RENAME_NOREPLACE
      rc = ::link(tmp.c_str(), path.c_str());
      if (rc == 0) ::unlink(tmp.c_str());
    }
  } else {
    rc = ::rename(tmp.c_str(), path.c_str());
  }
  if (rc != 0) {
    s = ErrnoStatus(errno, uri, "commit");
    cleanup();
    return s;
  }
  staged = false;
  if (::fsync(dfd.get()) != 0)
    return ErrnoStatus(errno, uri, "fsync directory");
  return ObjectInfo{std::string(key), data.size(), VersionOf(fresh)};
}

Result<std::vector<ObjectInfo>> LocalFileSystem::List(
    const ListOptions& options) {
  std::vector<ObjectInfo> out;
  // Walk only the directory the prefix lies in; descend into a subdirectory
  // only when keys below it can still match the prefix.
  const size_t slash = options.prefix.rfind('/');
  const std::string base =
      slash == std::string::npos ? "" : options.prefix.substr(0, slash + 1);
  std::vector<std::string> pending = {base};
  while (!pending.empty()) {
    const std::string rel = std::move(pending.back());
    pending.pop_back();
    const std::string dir_path = rel.empty() ? root_ : PathOf(rel);
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return ErrnoStatus(errno, Uri(rel), "list");
    }
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || IsTempName(name)) continue;
      std::string key = rel + std::string(name);
      // A file the prefix or start_after rules out is skipped by its name,
      // without a stat: one stat per entry made a listing of 100,000 chunks
      // cost seconds when only the last few keys were wanted.
      if (e->d_type == DT_REG &&
          (key.compare(0, options.prefix.size(), options.prefix) != 0 ||
           key <= options.start_after)) {
        continue;
      }
      struct stat st;
      if (::fstatat(::dirfd(dir), e->d_name, &st, 0) != 0) continue;  // raced
      if (S_ISDIR(st.st_mode)) {
        std::string sub = key + "/";
        const size_t n = std::min(sub.size(), options.prefix.size());
        if (sub.compare(0, n, options.prefix, 0, n) == 0) {
          pending.push_back(std::move(sub));
        }
        continue;
      }
      if (!S_ISREG(st.st_mode)) continue;
      if (key.compare(0, options.prefix.size(), options.prefix) != 0) continue;
      if (key <= options.start_after) continue;
      out.push_back(ObjectInfo{std::move(key),
                               static_cast<uint64_t>(st.st_size), VersionOf(st),
                               MtimeNs(st) / 1'000'000});
    }
    ::closedir(dir);
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  if (options.max_keys > 0 && out.size() > options.max_keys) {
    out.resize(options.max_keys);
  }
  return out;
}

Status LocalFileSystem::Delete(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  if (::unlink(PathOf(key).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, Uri(key), "delete");
  }
  return Status::OK();
}

}  // namespace txflow
