// FileSystem on an S3 bucket (or any S3-compatible store), rooted at
// s3://bucket/prefix. Keys map to "prefix/key".
//
// Commits rest on S3's own guarantees, not on renames (S3 has none):
//   - a PUT is atomic: readers see the old object or the new one;
//   - kCreateOnly is a PUT with "If-None-Match: *" (412 -> AlreadyExists);
//   - kReplaceIfMatch is a PUT with "If-Match: <ETag>" (412, or 404 when the
//     object is gone -> PreconditionFailed).
// An object over config.multipart_threshold is uploaded in parts and made
// visible, atomically and with the same conditions, by CompleteMultipartUpload;
// a failed upload is aborted, so no part is ever visible.
//
// Versions are ETags. An ETag is derived from the content, so rewriting equal
// bytes keeps the version; every compare-and-swap user in txflow writes a
// token or a generation, so its content never repeats (see docs/s3.md).
//
// Lost answers: when a conditional write was retried (an earlier attempt may
// have succeeded before its response was lost) and the server then says 412,
// the object is read back; if its ETag is the ETag of our bytes, the write
// was ours and succeeds.
//
// Thread-safe; the client pools connections.
#ifndef TXFLOW_IO_S3_FILE_SYSTEM_H_
#define TXFLOW_IO_S3_FILE_SYSTEM_H_

#include <memory>
#include <string>

#include "s3/s3_client.h"
#include "txflow/file_system.h"

namespace txflow {

class S3FileSystem final : public FileSystem {
 public:
  // `prefix` is "" or "a/b" (no leading or trailing '/').
  S3FileSystem(std::shared_ptr<s3::S3Client> client, std::string prefix);

  // Resolves the configuration from the environment (see s3/s3_config.h).
  static Result<std::unique_ptr<FileSystem>> Open(const std::string& bucket,
                                                  const std::string& prefix);

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
  Status Failed(std::string_view key, std::string_view op,
                const s3::S3Response& r) const;
  Result<ObjectInfo> PutSingle(std::string_view key, std::string_view data,
                               const WriteOptions& options);
  Result<ObjectInfo> PutMultipart(std::string_view key, std::string_view data,
                                  const WriteOptions& options);
  // The outcome of a conditional write that the server refused with `r`.
  Result<ObjectInfo> Refused(std::string_view key, const WriteOptions& options,
                             const s3::S3Response& r,
                             const std::string& our_etag);

  std::shared_ptr<s3::S3Client> client_;
  std::string prefix_;  // "" or "a/b/"
};

}  // namespace txflow

#endif  // TXFLOW_IO_S3_FILE_SYSTEM_H_
