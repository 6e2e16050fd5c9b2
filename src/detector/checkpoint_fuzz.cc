// libFuzzer target: the detector checkpoint reader, down to the merchant
// images. An input starting with 'W' is wrapped in a valid envelope (magic,
// version, length, CRC-32C) so the fuzzer reaches the payload parser instead
// of stopping at the checksum. Properties: no crash; an accepted checkpoint
// re-encodes to one that decodes equal; every accepted merchant image
// serializes to bytes that restore to the same bytes, and the restored state
// can take a row and be evaluated.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "detector/checkpoint.h"
#include "detector/merchant_state.h"

namespace {

std::string Wrap(std::string_view payload) {
  std::string out("TXFYCKPT");
  txflow::PutFixed32(&out, txflow::kCheckpointVersion);
  txflow::PutFixed64(&out, payload.size());
  out += payload;
  txflow::PutFixed32(&out, txflow::Crc32c(payload));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string wrapped;
  if (!in.empty() && in.front() == 'W') {
    wrapped = Wrap(in.substr(1));
    in = wrapped;
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
    std::string first;
    (*m)->Serialize(&first);
    std::string_view view = first;
    auto restored = txflow::MerchantState::Deserialize(&view);
    if (!restored.ok() || !view.empty()) std::abort();
    std::string second;
    (*restored)->Serialize(&second);
    if (second != first) std::abort();
    txflow::Thresholds t;
    t.upgrade_min_txns = 0;
    t.child_min_txns = 1;
    t.dei_min_female = 0;
    (*restored)->Apply("fuzz-customer", txflow::Gender::kFemale, 100,
                       1'000'000);
    std::vector<txflow::Detection> out;
    (*restored)->Evaluate(t, &out);
  }
  return 0;
}
