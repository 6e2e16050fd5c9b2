// CRC-32C (Castagnoli), the checksum of every txflow state file. Software,
// table-driven: state files are small, so speed does not matter here.
#ifndef TXFLOW_COMMON_CRC32C_H_
#define TXFLOW_COMMON_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace txflow {

uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace txflow

#endif  // TXFLOW_COMMON_CRC32C_H_
