// libFuzzer target: the offset.csv reader. Property: whatever it accepts
// re-encodes to a file it reads back to the same state; nothing crashes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "chunker/offset_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto state = txflow::DecodeOffsetState(in, "fuzz");
  if (!state.ok()) {
    if (state.status().code() != txflow::StatusCode::kCorruption) std::abort();
    return 0;
  }
  auto again =
      txflow::DecodeOffsetState(txflow::EncodeOffsetState(*state), "fuzz");
  if (!again.ok() || !(*again == *state)) std::abort();
  return 0;
}
