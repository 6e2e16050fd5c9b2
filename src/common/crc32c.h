// CRC-32C (Castagnoli), the checksum of every txflow state file. Uses the
// SSE4.2 crc32 instruction when the CPU has it (detector checkpoints are
// hundreds of MB at 10 M records), else a table. Thread-safe.
#ifndef TXFLOW_COMMON_CRC32C_H_
#define TXFLOW_COMMON_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace txflow {

uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// The table-driven implementation, always; for tests that compare the two.
uint32_t Crc32cSoftware(std::string_view data, uint32_t crc = 0);

}  // namespace txflow

#endif  // TXFLOW_COMMON_CRC32C_H_
