// The one storage interface. Everything txflow reads or writes goes through a
// FileSystem rooted at a URI; the backend is chosen by the URI's scheme:
//   file:///abs/dir, ./rel/dir, /abs/dir  -> local directory (LocalFileSystem)
//   mem://store/prefix                    -> in-process store  (MemFileSystem)
//   s3://bucket/prefix                    -> S3 or compatible  (S3FileSystem)
//
// The model is an object store, not POSIX: objects are named by keys relative
// to the root ("landing_zone/chunk-000000010000.csv"), written whole and
// atomically, never appended to and never renamed. Commits are built from two
// primitives that every backend offers:
//   - an atomic whole-object write: readers see the old object or the new one,
//     never a mix, never a prefix (local: temp + fsync + rename + fsync dir);
//   - a conditional write: create-only ("If-None-Match: *") or
//   replace-if-version
//     ("If-Match: <version>"), of which at most one concurrent caller wins.
//
// Keys: '/'-separated, relative, 1..1024 bytes, no empty, "." or ".."
// component, no NUL, no leading '/'. A bad key is InvalidArgument, so a hostile
// name in a listing can never address anything outside the root.
//
// Temporary objects: a backend that stages writes (local temp files) names them
// with kTempMarker inside the last component; List never returns such keys, so
// a reader never sees a half-written object, even one left by a killed process.
// Such a key is invalid as an argument to every call.
//
// Errors: every failure is a Status whose message names the object's URI and
// the cause. Codes: NotFound, AlreadyExists / PreconditionFailed (conditional
// write lost), Unavailable (retryable), NoSpace, PermissionDenied, IOError.
//
// Thread-safety: every method of every backend may be called concurrently from
// several threads on one instance. Conditional writes are also atomic across
// processes sharing the same root.
#ifndef TXFLOW_FILE_SYSTEM_H_
#define TXFLOW_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/status.h"

namespace txflow {

// Marks staging objects; List hides every key whose last component contains it.
inline constexpr std::string_view kTempMarker = ".txflow-tmp-";
inline constexpr size_t kMaxKeyBytes = 1024;

struct ObjectInfo {
  std::string key;  // relative to the file system's root
  uint64_t size = 0;
  // Opaque; changes on every successful write of the key (even with equal
  // content). Pass it back in WriteOptions::expected_version for a
  // compare-and-swap. Empty when the backend's List does not report it.
  std::string version;
  // When the object was last written, Unix ms, as the backend reports it
  // (local mtime, S3 LastModified in listings); 0 when it does not. For
  // reports only (ages, lag): never an ordering or a commit decision.
  int64_t modified_ms = 0;
};

enum class WriteMode {
  kOverwrite,       // create or replace
  kCreateOnly,      // AlreadyExists if the key exists
  kReplaceIfMatch,  // PreconditionFailed unless the key exists with
                    // expected_version
};

struct WriteOptions {
  WriteMode mode = WriteMode::kOverwrite;
  std::string expected_version;  // for kReplaceIfMatch
};

struct ListOptions {
  std::string prefix;       // byte prefix of the key; may end mid-component
  std::string start_after;  // only keys strictly greater (bytewise) than this
  size_t max_keys = 0;      // 0: no limit
};

// The bytes of one whole object, read-only, valid while this (or a copy)
// lives: held in memory, or mapped from a local file (FileSystem::ReadMapped).
class ObjectBytes {
 public:
  ObjectBytes() = default;
  explicit ObjectBytes(std::string bytes)
      : ObjectBytes(std::make_shared<const std::string>(std::move(bytes))) {}
  // `bytes`, kept valid by `keeper` (a mapping it unmaps when released).
  ObjectBytes(std::string_view bytes, std::shared_ptr<const void> keeper)
      : keeper_(std::move(keeper)), view_(bytes) {}

  std::string_view view() const { return view_; }
  size_t size() const { return view_.size(); }

 private:
  explicit ObjectBytes(std::shared_ptr<const std::string> owned)
      : keeper_(owned), view_(*owned) {}
  std::shared_ptr<const void> keeper_;
  std::string_view view_;
};

class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // The URI of `key` under this root, for messages. Never contains a secret.
  virtual std::string Uri(std::string_view key) const = 0;

  // The whole object. NotFound if absent.
  virtual Result<std::string> Read(std::string_view key) = 0;

  // As Read, into *out (its old contents replaced; unspecified after an
  // error), so that a caller reading object after object can reuse one
  // buffer instead of allocating and faulting in a new one each time.
  virtual Status ReadInto(std::string_view key, std::string* out) {
    auto data = Read(key);
    if (!data.ok()) return data.status();
    *out = std::move(data).value();
    return Status::OK();
  }

  // As Read, for a large object read once (a checkpoint and its deltas):
  // a local file of 1 MiB or more is mapped rather than copied, so
  // no page is zeroed or copied (its pages are the page cache's). Such a
  // file must not shrink while mapped (reading past its new end is SIGBUS):
  // txflow replaces its own objects by rename, never in place. Other
  // backends read.
  virtual Result<ObjectBytes> ReadMapped(std::string_view key) {
    auto data = Read(key);
    if (!data.ok()) return data.status();
    return ObjectBytes(std::move(data).value());
  }

  // Up to `length` bytes starting at `offset`; fewer at the end of the object,
  // and an empty string when offset >= size. NotFound if absent.
  virtual Result<std::string> ReadRange(std::string_view key, uint64_t offset,
                                        uint64_t length) = 0;

  // Size and version. NotFound if absent.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // Writes `data` as the whole object, atomically (see the file comment).
  // Returns the new object's info including its version. On any error the
  // previous object (or its absence) is unchanged and no partial object is
  // visible; a staging object may remain but is hidden from List.
  virtual Result<ObjectInfo> Write(std::string_view key, std::string_view data,
                                   const WriteOptions& options = {}) = 0;

  // Keys under the root matching `options`, bytewise ascending, recursively
  // (no delimiter), without staging objects.
  virtual Result<std::vector<ObjectInfo>> List(const ListOptions& options) = 0;

  // Removes the object. Deleting an absent key succeeds.
  virtual Status Delete(std::string_view key) = 0;
};

// Opens the file system rooted at `root_uri` (a directory or a prefix). Does
// not require the root to exist yet; writes create it. InvalidArgument for an
// unknown scheme or a malformed URI.
Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view root_uri);

// The root's URI for messages: fs.Uri("") without its trailing '/'.
std::string RootUri(const FileSystem& fs);

// Splits the URI of one object into its parent root and its key, e.g.
// "s3://b/p/x.csv" -> ("s3://b/p", "x.csv"), "data/x.csv" -> ("data", "x.csv").
struct ObjectLocation {
  std::string root_uri;
  std::string key;
};
Result<ObjectLocation> SplitObjectUri(std::string_view object_uri);

// OK, or InvalidArgument naming the key and what is wrong with it.
Status ValidateKey(std::string_view key);

}  // namespace txflow

#endif  // TXFLOW_FILE_SYSTEM_H_
