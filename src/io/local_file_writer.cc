#include "io/local_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "txflow/file_system.h"

namespace txflow {
namespace {

Status Errno(const std::string& path, std::string_view what) {
  const int err = errno;
  std::string m = path + ": " + std::string(what) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(std::move(m));
  if (err == ENOENT) return Status::NotFound(std::move(m));
  if (err == EACCES || err == EPERM || err == EROFS) {
    return Status::PermissionDenied(std::move(m));
  }
  return Status::IOError(std::move(m));
}

}  // namespace

LocalFileWriter::~LocalFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(staging_.c_str());
  }
}

Status LocalFileWriter::Open(const std::string& path) {
  path_ = path;
  staging_ = path + std::string(kTempMarker) + std::to_string(::getpid());
  fd_ =
      ::open(staging_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno(path_, "create");
  return Status::OK();
}

Status LocalFileWriter::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(path_, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status LocalFileWriter::Commit() {
  if (::fsync(fd_) != 0) return Errno(path_, "fsync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(staging_.c_str());
    return Errno(path_, "close");
  }
  fd_ = -1;
  if (::rename(staging_.c_str(), path_.c_str()) != 0) {
    Status s = Errno(path_, "rename");
    ::unlink(staging_.c_str());
    return s;
  }
  return Status::OK();
}

}  // namespace txflow
