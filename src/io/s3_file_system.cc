#include "io/s3_file_system.h"

#include <algorithm>

#include "common/clock.h"
#include "s3/crypto.h"
#include "s3/xml.h"

namespace txflow {
namespace {

using s3::S3Request;
using s3::S3Response;

// The ETag S3 gives `data` uploaded in one PUT, or in parts of `part_size`.
std::string ExpectedETag(std::string_view data, uint64_t part_size,
                         bool multipart) {
  if (!multipart) return "\"" + s3::HexEncode(s3::Md5(data)) + "\"";
  std::string digests;
  size_t parts = 0;
  for (uint64_t off = 0; off < data.size(); off += part_size, ++parts) {
    digests += s3::Md5(data.substr(off, part_size));
  }
  return "\"" + s3::HexEncode(s3::Md5(digests)) + "-" + std::to_string(parts) +
         "\"";
}

// A 404 that means "no such key", not "no such bucket" or (versitygw's way of
// saying it) "no such access key". HEAD responses have no body.
bool MissingKey(const S3Response& r) {
  return r.status == 404 &&
         (r.error_code.empty() || r.error_code == "NoSuchKey");
}

void AddCondition(const WriteOptions& options, S3Request& req) {
  if (options.mode == WriteMode::kCreateOnly) {
    req.headers.emplace_back("if-none-match", "*");
  } else if (options.mode == WriteMode::kReplaceIfMatch) {
    req.headers.emplace_back("if-match", options.expected_version);
  }
}

}  // namespace

S3FileSystem::S3FileSystem(std::shared_ptr<s3::S3Client> client,
                           std::string prefix)
    : client_(std::move(client)),
      prefix_(prefix.empty() ? std::string() : prefix + "/") {}

Result<std::unique_ptr<FileSystem>> S3FileSystem::Open(
    const std::string& bucket, const std::string& prefix) {
  const std::string root =
      "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
  auto config = s3::LoadS3Config(s3::ProcessEnv(), bucket);
  if (!config.ok()) return config.status().WithContext(root);
  return std::unique_ptr<FileSystem>(std::make_unique<S3FileSystem>(
      std::make_shared<s3::S3Client>(std::move(config).value(), bucket),
      prefix));
}

std::string S3FileSystem::Uri(std::string_view key) const {
  return "s3://" + client_->bucket() + "/" + prefix_ + std::string(key);
}

std::string S3FileSystem::FullKey(std::string_view key) const {
  return prefix_ + std::string(key);
}

Status S3FileSystem::Failed(std::string_view key, std::string_view op,
                            const S3Response& r) const {
  const std::string what =
      Uri(key) + ": " + std::string(op) + " failed: " + r.Describe();
  for (const char* denied :
       {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId",
        "XAdminUserNotFound", "ExpiredToken", "InvalidToken"}) {
    if (r.error_code == denied) return Status::PermissionDenied(what);
  }
  if (r.error_code == "NoSuchBucket") return Status::IOError(what);
  switch (r.status) {
    case 404:
      return Status::NotFound(what);
    case 401:
    case 403:
      return Status::PermissionDenied(what);
    case 400:
      return Status::InvalidArgument(what);
    case 409:
      // A concurrent conditional write on the same key; the caller may retry.
      return Status::Unavailable(what);
    case 507:
      return Status::NoSpace(what);
    default:
      return Status::IOError(what);
  }
}

Result<std::string> S3FileSystem::Read(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  S3Request req{"GET", FullKey(key), {}, {}, {}};
  TXFLOW_ASSIGN_OR_RETURN(S3Response r, client_->Execute(req, Uri(key)));
  if (MissingKey(r)) return Status::NotFound(Uri(key) + ": no such object");
  if (r.status != 200) return Failed(key, "GET", r);
  return std::move(r.body);
}

Result<std::string> S3FileSystem::ReadRange(std::string_view key,
                                            uint64_t offset, uint64_t length) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    TXFLOW_RETURN_IF_ERROR(Stat(key).status());
    return std::string();
  }
  // A length reaching past 2^64 means "to the end".
  length = std::min(length, UINT64_MAX - offset);
  S3Request req{"GET", FullKey(key), {}, {}, {}};
  req.headers.emplace_back("range", "bytes=" + std::to_string(offset) + "-" +
                                        std::to_string(offset + length - 1));
  TXFLOW_ASSIGN_OR_RETURN(S3Response r, client_->Execute(req, Uri(key)));
  if (MissingKey(r)) return Status::NotFound(Uri(key) + ": no such object");
  // 416: the range starts at or past the end (an empty object included).
  if (r.status == 416) return std::string();
  if (r.status == 200) {
    // A server that ignores Range sends the whole object.
    if (offset >= r.body.size()) return std::string();
    return r.body.substr(offset, length);
  }
  if (r.status != 206) return Failed(key, "GET range", r);
  if (r.body.size() > length) r.body.resize(length);
  return std::move(r.body);
}

Result<ObjectInfo> S3FileSystem::Stat(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  S3Request req{"HEAD", FullKey(key), {}, {}, {}};
  TXFLOW_ASSIGN_OR_RETURN(S3Response r, client_->Execute(req, Uri(key)));
  if (MissingKey(r)) return Status::NotFound(Uri(key) + ": no such object");
  if (r.status != 200) return Failed(key, "HEAD", r);
  ObjectInfo info;
  info.key = std::string(key);
  info.size = std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
  info.version = r.Header("etag");
  return info;
}

Result<ObjectInfo> S3FileSystem::Write(std::string_view key,
                                       std::string_view data,
                                       const WriteOptions& options) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  if (options.mode == WriteMode::kReplaceIfMatch &&
      options.expected_version.empty()) {
    return Status::InvalidArgument(Uri(key) +
                                   ": replace-if-match without a version");
  }
  if (data.size() > client_->config().multipart_threshold) {
    return PutMultipart(key, data, options);
  }
  return PutSingle(key, data, options);
}

Result<ObjectInfo> S3FileSystem::Refused(std::string_view key,
                                         const WriteOptions& options,
                                         const S3Response& r,
                                         const std::string& our_etag) {
  if (r.attempts > 1) {
    // An earlier attempt may have written our bytes and lost the answer.
    auto now = Stat(key);
    if (now.ok() && now->version == our_etag) return now;
  }
  if (options.mode == WriteMode::kCreateOnly && r.status == 412) {
    return Status::AlreadyExists(Uri(key) + ": already exists");
  }
  return Status::PreconditionFailed(Uri(key) +
                                    (r.status == 404
                                         ? ": does not exist (expected version "
                                         : ": changed (expected version ") +
                                    options.expected_version + ")");
}

Result<ObjectInfo> S3FileSystem::PutSingle(std::string_view key,
                                           std::string_view data,
                                           const WriteOptions& options) {
  S3Request req{"PUT", FullKey(key), {}, {}, data};
  AddCondition(options, req);
  TXFLOW_ASSIGN_OR_RETURN(S3Response r, client_->Execute(req, Uri(key)));
  const std::string our_etag = ExpectedETag(data, 0, false);
  const bool conditional = options.mode != WriteMode::kOverwrite;
  if (conditional && (r.status == 412 || MissingKey(r))) {
    return Refused(key, options, r, our_etag);
  }
  if (r.status != 200) return Failed(key, "PUT", r);
  ObjectInfo info{std::string(key), data.size(), r.Header("etag")};
  if (info.version.empty()) info.version = our_etag;
  return info;
}

Result<ObjectInfo> S3FileSystem::PutMultipart(std::string_view key,
                                              std::string_view data,
                                              const WriteOptions& options) {
  const std::string full = FullKey(key);
  const uint64_t part_size = client_->config().part_size;
  S3Request create{"POST", full, {{"uploads", ""}}, {}, {}};
  TXFLOW_ASSIGN_OR_RETURN(S3Response created,
                          client_->Execute(create, Uri(key)));
  if (created.status != 200)
    return Failed(key, "CreateMultipartUpload", created);
  const auto upload_id = s3::XmlText(created.body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return Status::IOError(Uri(key) +
                           ": CreateMultipartUpload returned no UploadId");
  }
  auto abort = [&](Status why) -> Status {
    S3Request req{"DELETE", full, {{"uploadId", *upload_id}}, {}, {}};
    // Best effort: an upload left behind is invisible and expires by the
    // bucket's lifecycle rule (docs/s3.md); the original error matters more.
    (void)client_->Execute(req, Uri(key));
    return why;
  };

  std::string complete = "<CompleteMultipartUpload>";
  int part = 0;
  for (uint64_t off = 0; off < data.size(); off += part_size) {
    ++part;
    S3Request put{
        "PUT",
        full,
        {{"partNumber", std::to_string(part)}, {"uploadId", *upload_id}},
        {},
        data.substr(off, part_size)};
    auto r = client_->Execute(put, Uri(key));
    if (!r.ok()) return abort(r.status());
    if (r->status != 200) return abort(Failed(key, "UploadPart", *r));
    complete += "<Part><PartNumber>" + std::to_string(part) +
                "</PartNumber><ETag>" + s3::XmlEscape(r->Header("etag")) +
                "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";

  S3Request finish{"POST", full, {{"uploadId", *upload_id}}, {}, complete};
  AddCondition(options, finish);
  auto r = client_->Execute(finish, Uri(key));
  if (!r.ok()) return abort(r.status());
  const std::string our_etag = ExpectedETag(data, part_size, true);
  const bool conditional = options.mode != WriteMode::kOverwrite;
  if (conditional && (r->status == 412 || MissingKey(*r))) {
    auto refused = Refused(key, options, *r, our_etag);
    if (refused.ok()) return refused;
    return abort(refused.status());
  }
  // S3 may answer 200 and put the error in the body.
  if (r->status != 200 || r->body.find("<Error>") != std::string::npos) {
    if (r->status == 200) {
      r->error_code = s3::XmlText(r->body, "Code").value_or("");
      r->error_message = s3::XmlText(r->body, "Message").value_or("");
    }
    return abort(Failed(key, "CompleteMultipartUpload", *r));
  }
  ObjectInfo info{std::string(key), data.size(),
                  s3::XmlText(r->body, "ETag").value_or("")};
  if (info.version.empty()) info.version = our_etag;
  return info;
}

Result<std::vector<ObjectInfo>> S3FileSystem::List(const ListOptions& options) {
  std::vector<ObjectInfo> out;
  std::string token;
  const std::string start_after = options.start_after.empty()
                                      ? std::string()
                                      : prefix_ + options.start_after;
  while (true) {
    S3Request req{
        "GET", "", {{"list-type", "2"}, {"encoding-type", "url"}}, {}, {}};
    req.query.emplace_back("prefix", prefix_ + options.prefix);
    size_t want = client_->config().list_page_size;
    if (options.max_keys != 0)
      want = std::min(want, options.max_keys - out.size());
    req.query.emplace_back("max-keys", std::to_string(want));
    if (!token.empty()) {
      req.query.emplace_back("continuation-token", token);
    } else if (!start_after.empty()) {
      req.query.emplace_back("start-after", start_after);
    }
    TXFLOW_ASSIGN_OR_RETURN(S3Response r,
                            client_->Execute(req, Uri(options.prefix)));
    if (r.status != 200) return Failed(options.prefix, "ListObjectsV2", r);
    const bool url_encoded =
        s3::XmlText(r.body, "EncodingType").value_or("") == "url";
    for (std::string_view contents : s3::XmlElements(r.body, "Contents")) {
      std::string key = s3::XmlText(contents, "Key").value_or("");
      if (url_encoded) key = s3::UriDecode(key);
      if (key.compare(0, prefix_.size(), prefix_) != 0) continue;
      key.erase(0, prefix_.size());
      if (key.empty() || key.back() == '/') continue;  // directory markers
      const size_t slash = key.rfind('/');
      const std::string_view last = std::string_view(key).substr(
          slash == std::string::npos ? 0 : slash + 1);
      if (last.find(kTempMarker) != std::string_view::npos) continue;
      ObjectInfo info;
      info.size = std::strtoull(
          s3::XmlText(contents, "Size").value_or("0").c_str(), nullptr, 10);
      info.version = s3::XmlText(contents, "ETag").value_or("");
      info.modified_ms =
          ParseUtcMs(s3::XmlText(contents, "LastModified").value_or(""))
              .value_or(0);
      info.key = std::move(key);
      out.push_back(std::move(info));
      if (options.max_keys != 0 && out.size() >= options.max_keys) return out;
    }
    const bool truncated =
        s3::XmlText(r.body, "IsTruncated").value_or("false") == "true";
    token = s3::XmlText(r.body, "NextContinuationToken").value_or("");
    if (!truncated || token.empty()) break;
  }
  return out;
}

Status S3FileSystem::Delete(std::string_view key) {
  TXFLOW_RETURN_IF_ERROR(ValidateKey(key));
  S3Request req{"DELETE", FullKey(key), {}, {}, {}};
  TXFLOW_ASSIGN_OR_RETURN(S3Response r, client_->Execute(req, Uri(key)));
  if (r.status == 204 || r.status == 200 || r.status == 404) {
    return Status::OK();
  }
  return Failed(key, "DELETE", r);
}

}  // namespace txflow
