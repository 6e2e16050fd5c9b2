// What the detector finds (SPEC §4.3-4.4) and the thresholds it uses.
#ifndef TXFLOW_DETECTOR_DETECTION_H_
#define TXFLOW_DETECTOR_DETECTION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace txflow {

enum class Pattern : uint8_t { kUpgrade = 1, kChild = 2, kDei = 3 };

inline std::string_view PatternId(Pattern p) {
  return p == Pattern::kUpgrade ? "PatId1"
         : p == Pattern::kChild ? "PatId2"
                                : "PatId3";
}
inline std::string_view ActionType(Pattern p) {
  return p == Pattern::kUpgrade ? "UPGRADE"
         : p == Pattern::kChild ? "CHILD"
                                : "DEI-NEEDED";
}

// The numbers that made a detection true, as MerchantState::Evaluate saw
// them when it decided (docs/formats.md, "Evidence files"). merchant_total
// always applies; the rest by pattern: UPGRADE count, weight_micro and the
// two percentile bounds; CHILD count and amount_paise; DEI-NEEDED female and
// male. Fields that do not apply are 0. Filled only for detections (rare),
// never on the per-row path.
struct Evidence {
  // false only for a detection restored from a checkpoint written before
  // txflow kept evidence: its numbers are gone (written as empty cells).
  bool known = false;
  std::string chunk;  // landing_zone key of the chunk evaluated (the caller)
  uint64_t merchant_total = 0;
  uint64_t count = 0;             // the customer's transactions here
  int64_t amount_paise = 0;       // the customer's amount sum
  int64_t weight_micro = 0;       // the customer's weight sum, 10^-6 units
  uint64_t count_bound_x100 = 0;  // P(counts) * 100, exact
  double weight_bound_micro = 0;  // P(avg weights) as compared, 10^-6 units
  uint64_t female = 0, male = 0;  // customers by pair gender
  bool operator==(const Evidence&) const = default;
};

struct Detection {
  Pattern pattern = Pattern::kUpgrade;
  std::string customer;  // "" for DEI-NEEDED
  std::string merchant;
  int64_t detected_at_ms = 0;
  Evidence evidence;

  // SPEC §4.1 order within a chunk: pattern, merchant, customer (bytewise).
  bool operator<(const Detection& o) const {
    return std::tie(pattern, merchant, customer) <
           std::tie(o.pattern, o.merchant, o.customer);
  }
  bool SameFinding(const Detection& o) const {
    return pattern == o.pattern && merchant == o.merchant &&
           customer == o.customer;
  }
};

struct Thresholds {
  uint64_t upgrade_min_txns = 50'000;  // merchant total must exceed this
  uint32_t upgrade_count_pct = 90;     // count >= P(this) of counts
  uint32_t upgrade_weight_pct = 10;    // avg weight <= P(this) of avg weights
  uint64_t child_min_txns = 80;        // pair count >= this
  int64_t child_max_avg_paise = 2300;  // and amount_sum < this * count
  uint64_t dei_min_female = 100;       // female customers > this, and < male
};

enum class Gender : uint8_t { kOther = 0, kFemale = 1, kMale = 2 };

inline Gender GenderOf(std::string_view g) {
  return g == "F" ? Gender::kFemale : g == "M" ? Gender::kMale : Gender::kOther;
}

}  // namespace txflow

#endif  // TXFLOW_DETECTOR_DETECTION_H_
