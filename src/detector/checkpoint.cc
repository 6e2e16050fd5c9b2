#include "detector/checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "common/coding.h"
#include "common/crc32c.h"

namespace txflow {
namespace {

constexpr std::string_view kMagic = "TXFYCKPT";
constexpr std::string_view kDeltaMagic = "TXFYDLTA";
constexpr std::string_view kManifestMagic = "TXFYMANI";

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

std::string DeltaKey(uint64_t chunks) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "delta-%012" PRIu64 ".bin", chunks);
  return std::string(kDetectorStateDir) + buf;
}

std::optional<uint64_t> ParseStateName(std::string_view name,
                                       std::string_view prefix) {
  constexpr size_t kDigits = 12;
  if (name.size() != prefix.size() + kDigits + 4 ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - 4) != ".bin") {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char ch : name.substr(prefix.size(), kDigits)) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  return v;
}

namespace {

// Everything before the merchant images, after a frame with `magic` and
// `version` (the payload length is filled in by FinishCheckpoint).
void BeginFramed(std::string_view magic, uint32_t version,
                 const DetectorCheckpoint& c, std::string* out) {
  std::string& p = *out;
  p.assign(magic);
  PutFixed32(&p, version);
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

}  // namespace

void BeginCheckpoint(const DetectorCheckpoint& c, std::string* out) {
  BeginFramed(kMagic, kCheckpointVersion, c, out);
}

void BeginDelta(const DetectorCheckpoint& c, const std::string& extends,
                std::string* out) {
  BeginFramed(kDeltaMagic, kDeltaVersion, c, out);
  PutString(out, extends);
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

// Which framed object a magic starts.
enum class Kind { kCheckpoint, kDelta, kManifest };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kCheckpoint:
      return "detector checkpoint";
    case Kind::kDelta:
      return "detector delta";
    case Kind::kManifest:
      return "detector manifest";
  }
  return "";
}

Status Corrupt(Kind k, const std::string& uri, const std::string& why) {
  return Status::Corruption(
      uri + ": corrupt " + std::string(KindName(k)) + ": " + why +
      " (restore it from a backup; txflow will not restart from "
      "zero silently)");
}

// Checks the magic (one of `kinds`) and version and reads the payload
// length; *data is left at the payload.
Status DecodeFrame(std::string_view* data, const std::string& uri,
                   std::initializer_list<Kind> kinds, Kind* kind,
                   uint32_t* version, uint64_t* len) {
  bool found = false;
  for (Kind k : kinds) {
    const std::string_view magic = k == Kind::kCheckpoint ? kMagic
                                   : k == Kind::kDelta    ? kDeltaMagic
                                                          : kManifestMagic;
    if (data->substr(0, magic.size()) == magic) {
      *kind = k;
      found = true;
      data->remove_prefix(magic.size());
      break;
    }
  }
  if (!found) return Corrupt(*kinds.begin(), uri, "bad magic");
  if (!GetFixed32(data, version)) return Corrupt(*kind, uri, "truncated");
  // Checkpoint version 1 has no evidence in its pending list; it is still
  // read.
  const uint32_t newest = *kind == Kind::kCheckpoint ? kCheckpointVersion
                          : *kind == Kind::kDelta    ? kDeltaVersion
                                                     : kManifestVersion;
  const uint32_t oldest = 1;
  if (*version < oldest || *version > newest) {
    return Status::Corruption(
        uri + ": " + std::string(KindName(*kind)) + " format version " +
        std::to_string(*version) + " is not supported (expects " +
        std::to_string(oldest) + " to " + std::to_string(newest) + ")");
  }
  if (!GetFixed64(data, len)) return Corrupt(*kind, uri, "truncated");
  return Status::OK();
}

// The whole object: frame, payload (returned), CRC.
Result<std::string_view> DecodeWhole(std::string_view data,
                                     const std::string& uri, Kind want,
                                     uint32_t* version) {
  uint64_t len = 0;
  uint32_t crc = 0;
  Kind kind = want;
  TXFLOW_RETURN_IF_ERROR(DecodeFrame(&data, uri, {want}, &kind, version, &len));
  if (len > data.size() || data.size() - len != 4)
    return Corrupt(want, uri, "truncated or wrong length");
  std::string_view p = data.substr(0, len);
  data.remove_prefix(len);
  if (!GetFixed32(&data, &crc) || Crc32c(p) != crc)
    return Corrupt(want, uri, "checksum mismatch");
  return p;
}

}  // namespace

Result<DetectorCheckpoint> DecodeCheckpoint(std::string_view data,
                                            const std::string& uri) {
  std::string_view images;
  TXFLOW_ASSIGN_OR_RETURN(DetectorCheckpoint c,
                          DecodeCheckpoint(data, uri, &images));
  c.merchants.assign(images);
  return c;
}

Result<DetectorCheckpoint> DecodeCheckpoint(std::string_view data,
                                            const std::string& uri,
                                            std::string_view* images) {
  uint32_t version = 0;
  TXFLOW_ASSIGN_OR_RETURN(std::string_view p,
                          DecodeWhole(data, uri, Kind::kCheckpoint, &version));
  DetectorCheckpoint c;
  if (std::string why = DecodeFields(&p, version, &c); !why.empty())
    return Corrupt(Kind::kCheckpoint, uri, why);
  *images = p;
  return c;
}

Result<DetectorDelta> DecodeDelta(std::string_view data,
                                  const std::string& uri) {
  std::string_view images;
  TXFLOW_ASSIGN_OR_RETURN(DetectorDelta d, DecodeDelta(data, uri, &images));
  d.header.merchants.assign(images);
  return d;
}

Result<DetectorDelta> DecodeDelta(std::string_view data, const std::string& uri,
                                  std::string_view* images) {
  uint32_t version = 0;
  TXFLOW_ASSIGN_OR_RETURN(std::string_view p,
                          DecodeWhole(data, uri, Kind::kDelta, &version));
  DetectorDelta d;
  // The header fields are those of checkpoint version 2 (with evidence).
  if (std::string why = DecodeFields(&p, kCheckpointVersion, &d.header);
      !why.empty()) {
    return Corrupt(Kind::kDelta, uri, why);
  }
  if (!GetString(&p, &d.extends) ||
      (!ParseStateName(d.extends, "checkpoint-") &&
       !ParseStateName(d.extends, "delta-"))) {
    return Corrupt(Kind::kDelta, uri, "bad base name");
  }
  *images = p;
  return d;
}

Result<DetectorCheckpoint> DecodeCheckpointHeader(std::string_view prefix,
                                                  uint64_t object_size,
                                                  const std::string& uri) {
  uint64_t len = 0;
  uint32_t version = 0;
  Kind kind = Kind::kCheckpoint;
  TXFLOW_RETURN_IF_ERROR(DecodeFrame(
      &prefix, uri, {Kind::kCheckpoint, Kind::kDelta}, &kind, &version, &len));
  if (object_size < kPayloadAt + 4 || len != object_size - kPayloadAt - 4)
    return Corrupt(kind, uri, "payload length does not match the size");
  std::string_view p = prefix.substr(0, len);
  DetectorCheckpoint c;
  const uint32_t fields = kind == Kind::kDelta ? kCheckpointVersion : version;
  if (std::string why = DecodeFields(&p, fields, &c); !why.empty())
    return Corrupt(kind, uri, why);
  return c;
}

std::string EncodeManifest(const DetectorManifest& m) {
  std::string out(kManifestMagic);
  PutFixed32(&out, kManifestVersion);
  PutFixed64(&out, 0);
  PutString(&out, m.base);
  PutVarint(&out, m.deltas.size());
  for (const std::string& d : m.deltas) PutString(&out, d);
  FinishCheckpoint(&out);
  return out;
}

Result<DetectorManifest> DecodeManifest(std::string_view data,
                                        const std::string& uri) {
  DetectorManifest m;
  if (data.substr(0, kManifestMagic.size()) != kManifestMagic) {
    // The one-line CURRENT of txflow before manifests: a base alone.
    std::string_view name = data;
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r'))
      name.remove_suffix(1);
    if (!ParseStateName(name, "checkpoint-")) {
      return Status::Corruption(uri + ": names no checkpoint");
    }
    m.base.assign(name);
    return m;
  }
  uint32_t version = 0;
  TXFLOW_ASSIGN_OR_RETURN(std::string_view p,
                          DecodeWhole(data, uri, Kind::kManifest, &version));
  uint64_t n = 0;
  if (!GetString(&p, &m.base) || !GetVarint(&p, &n) || n > p.size())
    return Corrupt(Kind::kManifest, uri, "truncated");
  auto last = ParseStateName(m.base, "checkpoint-");
  if (!last) return Corrupt(Kind::kManifest, uri, "bad base name");
  for (uint64_t i = 0; i < n; ++i) {
    std::string d;
    if (!GetString(&p, &d)) return Corrupt(Kind::kManifest, uri, "truncated");
    const auto chunks = ParseStateName(d, "delta-");
    // Ascending: the base at chunk c, deltas after it (a delta may share the
    // base's count: a checkpoint with no chunk since).
    if (!chunks || *chunks < *last || (i > 0 && *chunks == *last)) {
      return Corrupt(Kind::kManifest, uri, "bad or unordered delta name");
    }
    last = chunks;
    m.deltas.push_back(std::move(d));
  }
  if (!p.empty()) return Corrupt(Kind::kManifest, uri, "trailing bytes");
  return m;
}

}  // namespace txflow
