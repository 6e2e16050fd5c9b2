// libFuzzer target: the detector checkpoint, delta and manifest readers,
// down to the merchant images and merchant deltas. An input starting with
// 'W' (checkpoint), 'D' (delta) or 'M' (manifest) is wrapped in a valid
// envelope (magic, version, length, CRC-32C) so the fuzzer reaches the
// payload parser instead of stopping at the checksum. Every decoder sees
// every input; each fails only with Corruption. Properties: no crash; an
// accepted checkpoint re-encodes to one that decodes equal; every accepted
// merchant image serializes to bytes that restore to the same bytes, and the
// restored state can take a row and be evaluated.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "detector/checkpoint.h"
#include "detector/merchant_state.h"

namespace {

std::string Wrap(std::string_view payload, const char* magic = "TXFYCKPT",
                 uint32_t version = txflow::kCheckpointVersion) {
  std::string out(magic);
  txflow::PutFixed32(&out, version);
  txflow::PutFixed64(&out, payload.size());
  out += payload;
  txflow::PutFixed32(&out, txflow::Crc32c(payload));
  return out;
}

// A state's image restores to a state with the same image.
void ExpectImageRoundTrips(const txflow::MerchantState& m) {
  std::string first;
  m.Serialize(&first);
  std::string_view view = first;
  auto restored = txflow::MerchantState::Deserialize(&view);
  if (!restored.ok() || !view.empty()) std::abort();
  std::string second;
  (*restored)->Serialize(&second);
  if (second != first) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string wrapped;
  if (!in.empty() && in.front() == 'W') {
    wrapped = Wrap(in.substr(1));
    in = wrapped;
  } else if (!in.empty() && in.front() == 'D') {
    wrapped = Wrap(in.substr(1), "TXFYDLTA", txflow::kDeltaVersion);
    in = wrapped;
  } else if (!in.empty() && in.front() == 'M') {
    wrapped = Wrap(in.substr(1), "TXFYMANI", txflow::kManifestVersion);
    in = wrapped;
  }
  // The manifest: an accepted one re-encodes to one that decodes equal.
  if (auto m = txflow::DecodeManifest(in, "fuzz"); m.ok()) {
    auto again = txflow::DecodeManifest(txflow::EncodeManifest(*m), "fuzz");
    if (!again.ok() || again->base != m->base || again->deltas != m->deltas)
      std::abort();
  } else if (m.status().code() != txflow::StatusCode::kCorruption) {
    std::abort();
  }
  // The delta: its merchant deltas apply to an empty state and to one of
  // three pairs (changed pairs must name existing ids: only there are they
  // reached), or fail with Corruption; an applied one serializes and
  // restores to the same bytes.
  if (auto d = txflow::DecodeDelta(in, "fuzz"); d.ok()) {
    std::string_view images = d->header.merchants;
    for (uint64_t i = 0; i < d->header.merchant_count && i < 64; ++i) {
      auto id = txflow::MerchantState::DeltaMerchant(images);
      if (!id.ok()) break;
      txflow::MerchantState empty(*id), small(*id);
      for (const char* c : {"c0", "c1", "c2"}) {
        small.Apply(c, txflow::Gender::kFemale, 100, 1'000'000);
      }
      std::string_view next;
      bool applied = false;
      for (txflow::MerchantState* m : {&empty, &small}) {
        std::string_view at = images;
        const txflow::Status s = m->ApplyDelta(&at);
        if (!s.ok()) {
          if (s.code() != txflow::StatusCode::kCorruption) std::abort();
          continue;
        }
        applied = true;
        next = at;
        ExpectImageRoundTrips(*m);
      }
      if (!applied) break;
      images = next;
    }
  } else if (d.status().code() != txflow::StatusCode::kCorruption) {
    std::abort();
  }
  if (auto h = txflow::DecodeCheckpointHeader(in, in.size(), "fuzz");
      !h.ok() && h.status().code() != txflow::StatusCode::kCorruption) {
    std::abort();
  }
  auto c = txflow::DecodeCheckpoint(in, "fuzz");
  if (!c.ok()) {
    if (c.status().code() != txflow::StatusCode::kCorruption) std::abort();
    return 0;
  }
  auto again = txflow::DecodeCheckpoint(txflow::EncodeCheckpoint(*c), "fuzz");
  if (!again.ok() || again->merchants != c->merchants ||
      again->pending.size() != c->pending.size() ||
      again->detections != c->detections || again->written != c->written) {
    std::abort();
  }
  std::string_view images = c->merchants;
  for (uint64_t i = 0; i < c->merchant_count && i < 64; ++i) {
    auto m = txflow::MerchantState::Deserialize(&images);
    if (!m.ok()) break;
    ExpectImageRoundTrips(**m);
    txflow::Thresholds t;
    t.upgrade_min_txns = 0;
    t.child_min_txns = 1;
    t.dei_min_female = 0;
    (*m)->Apply("fuzz-customer", txflow::Gender::kFemale, 100, 1'000'000);
    std::vector<txflow::Detection> out;
    (*m)->Evaluate(t, &out);
  }
  return 0;
}
