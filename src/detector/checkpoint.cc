#include "detector/checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common/coding.h"
#include "common/crc32c.h"

namespace txflow {
namespace {

constexpr std::string_view kMagic = "TXFYCKPT";

void PutEvidence(const Evidence& e, std::string* p) {
  p->push_back(e.known ? 1 : 0);
  PutString(p, e.chunk);
  PutVarint(p, e.merchant_total);
  PutVarint(p, e.count);
  PutSigned(p, e.amount_paise);
  PutSigned(p, e.weight_micro);
  PutVarint(p, e.count_bound_x100);
  uint64_t bits;
  std::memcpy(&bits, &e.weight_bound_micro, sizeof bits);
  PutFixed64(p, bits);
  PutVarint(p, e.female);
  PutVarint(p, e.male);
}

bool GetEvidence(std::string_view* p, Evidence* e) {
  if (p->empty() || static_cast<uint8_t>(p->front()) > 1) return false;
  e->known = p->front() == 1;
  p->remove_prefix(1);
  uint64_t bits = 0;
  const bool ok = GetString(p, &e->chunk) && GetVarint(p, &e->merchant_total) &&
                  GetVarint(p, &e->count) && GetSigned(p, &e->amount_paise) &&
                  GetSigned(p, &e->weight_micro) &&
                  GetVarint(p, &e->count_bound_x100) && GetFixed64(p, &bits) &&
                  GetVarint(p, &e->female) && GetVarint(p, &e->male);
  std::memcpy(&e->weight_bound_micro, &bits, sizeof bits);
  return ok;
}

}  // namespace

std::string CheckpointKey(uint64_t chunks) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "checkpoint-%012" PRIu64 ".bin", chunks);
  return std::string(kDetectorStateDir) + buf;
}

uint32_t ThresholdsFingerprint(const Thresholds& t) {
  std::string s;
  PutVarint(&s, t.upgrade_min_txns);
  PutVarint(&s, t.upgrade_count_pct);
  PutVarint(&s, t.upgrade_weight_pct);
  PutVarint(&s, t.child_min_txns);
  PutSigned(&s, t.child_max_avg_paise);
  PutVarint(&s, t.dei_min_female);
  return Crc32c(s);
}

// magic, version (u32), payload length (u64): the payload starts here.
constexpr size_t kPayloadAt = 8 + 4 + 8;

void BeginCheckpoint(const DetectorCheckpoint& c, std::string* out) {
  std::string& p = *out;
  p.assign(kMagic);
  PutFixed32(&p, kCheckpointVersion);
  PutFixed64(&p, 0);  // the payload length, filled in by FinishCheckpoint
  PutVarint(&p, c.chunks);
  PutString(&p, c.last_chunk_key);
  for (uint64_t v :
       {c.next_record, c.records, c.bad_rows, c.detections, c.written, c.files,
        c.per_pattern[0], c.per_pattern[1], c.per_pattern[2]}) {
    PutVarint(&p, v);
  }
  PutFixed32(&p, c.thresholds_crc);
  PutFixed32(&p, c.importance_crc);
  PutVarint(&p, c.pending.size());
  for (const Detection& d : c.pending) {
    p.push_back(static_cast<char>(d.pattern));
    PutString(&p, d.customer);
    PutString(&p, d.merchant);
    PutSigned(&p, d.detected_at_ms);
    PutEvidence(d.evidence, &p);
  }
  PutVarint(&p, c.merchant_count);
}

void FinishCheckpoint(std::string* out) {
  const uint64_t len = out->size() - kPayloadAt;
  std::string fixed;
  PutFixed64(&fixed, len);
  out->replace(kPayloadAt - 8, 8, fixed);
  const uint32_t crc = Crc32c(std::string_view(*out).substr(kPayloadAt));
  PutFixed32(out, crc);
}

std::string EncodeCheckpoint(const DetectorCheckpoint& c) {
  std::string out;
  BeginCheckpoint(c, &out);
  out += c.merchants;
  FinishCheckpoint(&out);
  return out;
}

namespace {

// The payload's fields up to and including the merchant count, from *p
// (advanced past them). "" on success, else what is wrong.
std::string DecodeFields(std::string_view* p, uint32_t version,
                         DetectorCheckpoint* c) {
  uint64_t n = 0;
  bool ok = GetVarint(p, &c->chunks) && GetString(p, &c->last_chunk_key);
  for (uint64_t* v :
       {&c->next_record, &c->records, &c->bad_rows, &c->detections, &c->written,
        &c->files, &c->per_pattern[0], &c->per_pattern[1],
        &c->per_pattern[2]}) {
    ok = ok && GetVarint(p, v);
  }
  ok = ok && GetFixed32(p, &c->thresholds_crc) &&
       GetFixed32(p, &c->importance_crc) && GetVarint(p, &n) && n <= p->size();
  if (!ok) return "bad header fields";
  for (uint64_t i = 0; i < n; ++i) {
    if (p->empty()) return "truncated pending list";
    Detection d;
    const uint8_t pat = static_cast<uint8_t>(p->front());
    p->remove_prefix(1);
    if (pat < 1 || pat > 3) return "bad pattern";
    d.pattern = static_cast<Pattern>(pat);
    if (!GetString(p, &d.customer) || !GetString(p, &d.merchant) ||
        !GetSigned(p, &d.detected_at_ms) ||
        (version >= 2 && !GetEvidence(p, &d.evidence))) {
      return "truncated pending list";
    }
    c->pending.push_back(std::move(d));
  }
  if (!GetVarint(p, &c->merchant_count)) return "truncated";
  // Pending holds detections [written, detections); none while a replay is
  // still behind what the files hold.
  const uint64_t expected_pending =
      c->detections > c->written ? c->detections - c->written : 0;
  if (c->pending.size() != expected_pending) return "inconsistent counters";
  return "";
}

Status CorruptCheckpoint(const std::string& uri, const std::string& why) {
  return Status::Corruption(
      uri + ": corrupt detector checkpoint: " + why +
      " (restore it from a backup; txflow will not restart from "
      "zero silently)");
}

// Checks magic and version and reads the payload length; *data is left at
// the payload.
Status DecodeFrame(std::string_view* data, const std::string& uri,
                   uint32_t* version, uint64_t* len) {
  if (data->substr(0, kMagic.size()) != kMagic)
    return CorruptCheckpoint(uri, "bad magic");
  data->remove_prefix(kMagic.size());
  if (!GetFixed32(data, version)) return CorruptCheckpoint(uri, "truncated");
  // Version 1 has no evidence in its pending list; it is still read.
  if (*version != kCheckpointVersion && *version != 1) {
    return Status::Corruption(uri + ": detector checkpoint format version " +
                              std::to_string(*version) +
                              " is not supported (expects 1 to " +
                              std::to_string(kCheckpointVersion) + ")");
  }
  if (!GetFixed64(data, len)) return CorruptCheckpoint(uri, "truncated");
  return Status::OK();
}

}  // namespace

Result<DetectorCheckpoint> DecodeCheckpoint(std::string_view data,
                                            const std::string& uri) {
  uint64_t len = 0;
  uint32_t version = 0, crc = 0;
  TXFLOW_RETURN_IF_ERROR(DecodeFrame(&data, uri, &version, &len));
  if (len > data.size() || data.size() - len != 4)
    return CorruptCheckpoint(uri, "truncated or wrong length");
  std::string_view p = data.substr(0, len);
  data.remove_prefix(len);
  if (!GetFixed32(&data, &crc) || Crc32c(p) != crc)
    return CorruptCheckpoint(uri, "checksum mismatch");
  DetectorCheckpoint c;
  if (std::string why = DecodeFields(&p, version, &c); !why.empty())
    return CorruptCheckpoint(uri, why);
  c.merchants.assign(p);
  return c;
}

Result<DetectorCheckpoint> DecodeCheckpointHeader(std::string_view prefix,
                                                  uint64_t object_size,
                                                  const std::string& uri) {
  uint64_t len = 0;
  uint32_t version = 0;
  TXFLOW_RETURN_IF_ERROR(DecodeFrame(&prefix, uri, &version, &len));
  if (object_size < kPayloadAt + 4 || len != object_size - kPayloadAt - 4)
    return CorruptCheckpoint(uri, "payload length does not match the size");
  std::string_view p = prefix.substr(0, len);
  DetectorCheckpoint c;
  if (std::string why = DecodeFields(&p, version, &c); !why.empty())
    return CorruptCheckpoint(uri, why);
  return c;
}

}  // namespace txflow
