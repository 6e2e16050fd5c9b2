#include "chunker/chunker.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/crc32c.h"
#include "common/log.h"
#include "csv/record_scanner.h"

namespace txflow {

Chunker::Chunker(FileSystem* source_fs, std::string source_key,
                 std::string source_uri, FileSystem* root_fs,
                 ChunkerOptions options, Clock* clock)
    : source_fs_(source_fs),
      source_key_(std::move(source_key)),
      source_uri_(std::move(source_uri)),
      root_fs_(root_fs),
      options_(options),
      clock_(clock) {}

Status Chunker::Load() {
  window_.clear();
  header_.clear();
  offset_version_.clear();
  recovering_ = true;
  adopted_unsaved_ = 0;
  state_ = OffsetState{};
  state_.source = source_uri_;
  auto info = root_fs_->Stat(kOffsetKey);
  if (info.status().IsNotFound()) {
    loaded_ = true;
    return Status::OK();
  }
  if (!info.ok()) return info.status();
  TXFLOW_ASSIGN_OR_RETURN(std::string text, root_fs_->Read(kOffsetKey));
  TXFLOW_ASSIGN_OR_RETURN(state_,
                          DecodeOffsetState(text, root_fs_->Uri(kOffsetKey)));
  if (state_.source != source_uri_) {
    return Status::InvalidArgument(
        root_fs_->Uri(kOffsetKey) + ": this root is chunking " + state_.source +
        ", not " + source_uri_ + " (use another root)");
  }
  offset_version_ = info->version;
  loaded_ = true;
  return Status::OK();
}

Status Chunker::ReadHeader(uint64_t size, bool* complete) {
  *complete = false;
  if (size == 0) {
    return Status::InvalidArgument(source_uri_ +
                                   ": source is empty (no header line)");
  }
  for (uint64_t want = 64 * 1024;; want *= 2) {
    TXFLOW_ASSIGN_OR_RETURN(
        std::string head,
        source_fs_->ReadRange(source_key_, 0, std::min(want, size)));
    const ScanResult scan = ScanRecords(head, 1);
    if (scan.records == 1) {
      head.resize(scan.bytes);
      if (head.find_first_not_of("\r\n") == std::string::npos) {
        return Status::InvalidArgument(
            source_uri_ + ": first line is blank (expected a CSV header)");
      }
      header_ = std::move(head);
      state_.header_bytes = header_.size();
      state_.header_crc32c = Crc32c(header_);
      state_.byte_offset = header_.size();
      *complete = true;
      return Status::OK();
    }
    if (head.size() >= size) return Status::OK();  // header still growing
    if (want > options_.max_record_bytes) {
      return Status::InvalidArgument(
          source_uri_ + ": no header line within the first " +
          std::to_string(options_.max_record_bytes) + " bytes");
    }
  }
}

Status Chunker::VerifyHeader(uint64_t size) {
  if (size < state_.header_bytes) {
    return Status::InvalidArgument(
        source_uri_ + ": source shrank to " + std::to_string(size) +
        " bytes, below its header (" + std::to_string(state_.header_bytes) +
        " bytes); refusing to continue");
  }
  TXFLOW_ASSIGN_OR_RETURN(
      std::string head,
      source_fs_->ReadRange(source_key_, 0, state_.header_bytes));
  if (head.size() != state_.header_bytes ||
      Crc32c(head) != state_.header_crc32c) {
    return Status::InvalidArgument(
        source_uri_ + ": header line changed since chunking began (was " +
        std::to_string(state_.header_bytes) + " bytes, crc32c " +
        std::to_string(state_.header_crc32c) + "); refusing to continue");
  }
  header_ = std::move(head);
  return Status::OK();
}

Status Chunker::FillWindow(uint64_t want, uint64_t size) {
  const uint64_t start = state_.byte_offset;
  const uint64_t end = std::min(size, start + want);
  const uint64_t have_end = start + window_.size();
  if (have_end >= end) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(
      std::string more,
      source_fs_->ReadRange(source_key_, have_end, end - have_end));
  if (more.size() != end - have_end) {
    return Status::Unavailable(source_uri_ +
                               ": source changed while being read");
  }
  window_ += more;
  return Status::OK();
}

Status Chunker::Adopt(const std::string& key, const std::string& mine,
                      uint64_t size, uint64_t* consumed, uint64_t* records) {
  const std::string uri = root_fs_->Uri(key);
  TXFLOW_ASSIGN_OR_RETURN(std::string theirs, root_fs_->Read(key));
  if (theirs == mine) return Status::OK();  // the usual case: same cut, rerun
  // A different cut of the same position (e.g. a linger chunk cut before a
  // crash): keep it if, and only if, it is an exact copy of the source there.
  auto mismatch = [&](const std::string& why) {
    return Status::Corruption(
        uri + " exists but " + why +
        "; refusing to overwrite it (was the source rewritten?)");
  };
  if (theirs.compare(0, header_.size(), header_) != 0) {
    return mismatch("has a different header");
  }
  std::string_view body = std::string_view(theirs).substr(header_.size());
  if (body.empty() || body.back() != '\n')
    return mismatch("does not end with a newline");
  TXFLOW_RETURN_IF_ERROR(FillWindow(body.size(), size));
  uint64_t covered = body.size();
  if (window_.size() < body.size()) {
    // Only a drain-mode last chunk may add the '\n' the source lacks.
    if (window_.size() + 1 != body.size() ||
        state_.byte_offset + window_.size() != size) {
      return mismatch("is longer than the rest of the source");
    }
    covered = window_.size();
  }
  if (std::string_view(window_).substr(0, covered) != body.substr(0, covered)) {
    return mismatch("differs from the source at byte " +
                    std::to_string(state_.byte_offset));
  }
  const ScanResult scan = ScanRecords(body, SIZE_MAX);
  const bool tail_record = scan.bytes < body.size();
  if (tail_record && covered == body.size()) {
    return mismatch("ends inside a record");
  }
  *records = scan.records + (tail_record ? 1 : 0);
  *consumed = covered;
  return Status::OK();
}

Result<bool> Chunker::CutOne(uint64_t size, int64_t now, TickReport* report) {
  const uint64_t start = state_.byte_offset;
  if (start >= size) return false;
  uint64_t want =
      static_cast<uint64_t>(static_cast<double>(options_.chunk_rows) *
                            avg_record_bytes_ * 1.1) +
      4096;
  ScanResult scan;
  while (true) {
    TXFLOW_RETURN_IF_ERROR(FillWindow(want, size));
    scan = ScanRecords(window_, options_.chunk_rows);
    if (scan.records < options_.chunk_rows &&
        window_.size() - scan.bytes > options_.max_record_bytes) {
      // Checked at the source end too: waiting for such a record to end
      // would stall the pipeline silently.
      return Status::InvalidArgument(
          source_uri_ + ": record " +
          std::to_string(state_.next_record + scan.records) + " at byte " +
          std::to_string(start + scan.bytes) + " is longer than " +
          std::to_string(options_.max_record_bytes) +
          " bytes (unterminated quote?)");
    }
    if (scan.longest > options_.max_record_bytes) {
      // The same limit for a record that did end: whether it arrived in one
      // read or several must not decide between a chunk and an error.
      return Status::InvalidArgument(
          source_uri_ + ": record " +
          std::to_string(state_.next_record + scan.longest_index) +
          " is longer than " + std::to_string(options_.max_record_bytes) +
          " bytes (" + std::to_string(scan.longest) + ")");
    }
    if (scan.records == options_.chunk_rows || start + window_.size() >= size)
      break;
    want = std::max<uint64_t>(want * 2, window_.size() + 4096);
  }

  uint64_t records = scan.records;
  uint64_t consumed = scan.bytes;
  bool add_newline = false;
  if (records < options_.chunk_rows) {
    const bool at_end = start + window_.size() >= size;
    if (options_.drain && at_end) {
      if (window_.size() > scan.bytes) {  // unterminated last record
        ++records;
        consumed = window_.size();
        add_newline = true;
      }
    } else if (now - state_.size_seen_at_ms < options_.linger.count()) {
      return false;  // the tail may still grow
    }
    if (records == 0) return false;
  }

  std::string chunk;
  chunk.reserve(header_.size() + consumed + 1);
  chunk += header_;
  chunk.append(window_, 0, consumed);
  if (add_newline) chunk += '\n';
  const std::string key = ChunkKey(state_.next_record);
  bool exists = false;
  if (recovering_) {
    auto info = root_fs_->Stat(key);
    if (!info.ok() && !info.status().IsNotFound()) return info.status();
    exists = info.ok();
    recovering_ = exists;
  }
  if (!exists) {
    auto written = root_fs_->Write(key, chunk, {WriteMode::kCreateOnly, ""});
    if (!written.ok()) {
      if (written.status().code() != StatusCode::kAlreadyExists) {
        return written.status();
      }
      exists = true;
    }
  }
  if (exists) {
    TXFLOW_RETURN_IF_ERROR(Adopt(key, chunk, size, &consumed, &records));
    ++adopted_unsaved_;
  }

  state_.next_record += records;
  state_.byte_offset += consumed;
  ++state_.chunks_written;
  window_.erase(0, std::min<uint64_t>(consumed, window_.size()));
  avg_record_bytes_ = std::max(1.0, static_cast<double>(consumed) / records);
  report->chunks += 1;
  report->records += records;
  report->bytes += consumed;

  const uint64_t lag = size - state_.byte_offset;
  char line[256];
  std::snprintf(line, sizeof(line),
                "x: %s%s records=%" PRIu64
                " bytes=%zu lag=%.1fMB (~%.0f records)",
                exists ? "adopted " : "", key.c_str(), records, chunk.size(),
                static_cast<double>(lag) / 1e6,
                static_cast<double>(lag) / avg_record_bytes_);
  LogInfo(line);
  return true;
}

Status Chunker::Save(int64_t now) {
  state_.updated_at_ms = now;
  const std::string text = EncodeOffsetState(state_);
  WriteOptions opts =
      offset_version_.empty()
          ? WriteOptions{WriteMode::kCreateOnly, ""}
          : WriteOptions{WriteMode::kReplaceIfMatch, offset_version_};
  auto w = root_fs_->Write(kOffsetKey, text, opts);
  if (!w.ok()) {
    const StatusCode c = w.status().code();
    if (c == StatusCode::kAlreadyExists ||
        c == StatusCode::kPreconditionFailed) {
      return Status::Aborted(
          root_fs_->Uri(kOffsetKey) +
          ": changed by another process; stopping (two chunkers on "
          "one root?)");
    }
    return w.status();
  }
  offset_version_ = w->version;
  return Status::OK();
}

Result<TickReport> Chunker::Tick() {
  auto r = TickOnce();
  if (!r.ok()) {
    loaded_ = false;  // reload everything from storage next time
    verified_version_.clear();
  }
  return r;
}

Result<TickReport> Chunker::TickOnce() {
  if (!loaded_) TXFLOW_RETURN_IF_ERROR(Load());
  TickReport report;
  auto info = source_fs_->Stat(source_key_);
  if (!info.ok()) {
    if (info.status().IsNotFound()) {
      return Status::NotFound(source_uri_ + ": source not found");
    }
    return info.status();
  }
  const uint64_t size = info->size;
  const int64_t now = clock_->NowMs();
  bool dirty = false;
  if (state_.header_bytes == 0) {
    bool complete = false;
    TXFLOW_RETURN_IF_ERROR(ReadHeader(size, &complete));
    if (!complete) {
      report.drained = options_.drain;  // a header and nothing else, ever
      return report;
    }
    dirty = true;
  } else if (info->version.empty() || info->version != verified_version_ ||
             header_.empty()) {
    TXFLOW_RETURN_IF_ERROR(VerifyHeader(size));
    verified_version_ = info->version;
  }
  if (size < state_.byte_offset) {
    return Status::InvalidArgument(source_uri_ + ": source shrank to " +
                                   std::to_string(size) + " bytes, below the " +
                                   std::to_string(state_.byte_offset) +
                                   " already chunked; refusing to continue");
  }
  if (size != state_.source_size_seen) {
    state_.source_size_seen = size;
    state_.size_seen_at_ms = now;
    dirty = true;
  }
  const uint64_t limit = std::max<uint64_t>(1, options_.max_chunks_per_tick);
  // In catch-up and drain modes offset.csv is saved every few chunks rather
  // than after each: a crash in between costs only re-adopting those chunks.
  constexpr uint64_t kSaveEvery = 16;
  uint64_t unsaved = 0;
  while (report.chunks < limit) {
    TXFLOW_ASSIGN_OR_RETURN(bool cut, CutOne(size, now, &report));
    if (!cut) break;
    dirty = true;
    if (++unsaved == kSaveEvery || (adopted_unsaved_ > 0 && !recovering_)) {
      TXFLOW_RETURN_IF_ERROR(Save(now));
      unsaved = 0;
      adopted_unsaved_ = 0;
      dirty = false;
    }
  }
  if (dirty) {
    TXFLOW_RETURN_IF_ERROR(Save(now));
    adopted_unsaved_ = 0;
  }
  report.drained = options_.drain && state_.byte_offset >= size;
  return report;
}

}  // namespace txflow
