#include "detector/merchant_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/coding.h"

namespace txflow {
namespace {

constexpr int64_t kRupee = 1'000'000;  // weight units per rupee

std::vector<Detection> Eval(MerchantState& m, const Thresholds& t) {
  std::vector<Detection> out;
  m.Evaluate(t, &out);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Names(const std::vector<Detection>& d, Pattern p) {
  std::vector<std::string> out;
  for (const auto& x : d) {
    if (x.pattern == p) out.push_back(x.customer);
  }
  return out;
}

TEST(MerchantState, UpgradeGoldenFiveCustomers) {
  // Counts A5 B3 C1 D1 E1 (total 11 > 10); average weights A1 B2 C3 D4 E5
  // rupees. n = 5. P90 of counts: k = 90*4 = 360, lo = 3, r = 60, sorted
  // [1,1,1,3,5]:
  //   3 + (5-3)*60/100 = 4.2, so count >= 4.2: only A.
  // P10 of averages: k = 10*4 = 40, lo = 0, r = 40, sorted [1,2,3,4,5] rupees:
  //   1 + (2-1)*40/100 = 1.4 rupees, so avg <= 1.4: only A.  => UPGRADE A.
  MerchantState m("M1");
  Thresholds t;
  t.upgrade_min_txns = 10;
  const std::pair<const char*, int> rows[] = {
      {"A", 5}, {"B", 3}, {"C", 1}, {"D", 1}, {"E", 1}};
  int64_t rupees = 1;
  for (auto [c, n] : rows) {
    for (int i = 0; i < n; ++i) m.Apply(c, Gender::kMale, 100, rupees * kRupee);
    ++rupees;
  }
  EXPECT_EQ(Names(Eval(m, t), Pattern::kUpgrade),
            (std::vector<std::string>{"A"}));
  // Once only: more of the same changes nothing.
  m.Apply("A", Gender::kMale, 100, kRupee);
  EXPECT_TRUE(Names(Eval(m, t), Pattern::kUpgrade).empty());
}

// SPEC §4.3 computes P_p of the average weights in IEEE double, in the
// order written. Averages 2^51 + 0.5 and 2^51 + 1 are adjacent doubles, so
// P60 = v0 + (v1 - v0) * 60 / 100 = v0 + 0.3 rounds to v1: both customers
// are at or below it. (Without the interpolation, or in exact rationals,
// only the first would be.)
TEST(MerchantState, WeightPercentileRoundsAsIeeeDoubleInTheSpecsOrder) {
  const int64_t base = int64_t{3} << 51;  // 3 * 2^51 < 2^53: exact doubles
  const double a = static_cast<double>(base + 1) / 3.0;
  const double b = static_cast<double>(base + 3) / 3.0;
  ASSERT_EQ(std::nextafter(a, 2 * a), b) << "the averages must be adjacent";
  MerchantState m("M1");
  Thresholds t;
  t.upgrade_min_txns = 5;
  t.upgrade_weight_pct = 60;
  for (int i = 0; i < 3; ++i) {
    m.Apply("A", Gender::kFemale, 100, i == 0 ? base / 3 + 1 : base / 3);
    m.Apply("B", Gender::kFemale, 100, i == 0 ? base / 3 + 3 : base / 3);
  }
  EXPECT_EQ(Names(Eval(m, t), Pattern::kUpgrade),
            (std::vector<std::string>{"A", "B"}));
}

TEST(MerchantState, UpgradeNeedsMoreThanThresholdTransactions) {
  MerchantState m("M1");
  Thresholds t;
  t.upgrade_min_txns = 4;
  for (const char* c : {"A", "B", "C", "D"})
    m.Apply(c, Gender::kFemale, 1, kRupee);
  EXPECT_TRUE(Eval(m, t).empty()) << "4 transactions do not exceed 4";
  m.Apply("A", Gender::kFemale, 1, kRupee);
  EXPECT_FALSE(Names(Eval(m, t), Pattern::kUpgrade).empty());
}

TEST(MerchantState, TiesAtPercentileBoundaryCountForEveryone) {
  // Four customers, 2 transactions each at 1 rupee: every P is 2 and 1 rupee,
  // and count >= 2, avg <= 1 hold for all four (ties are inclusive).
  MerchantState m("M1");
  Thresholds t;
  t.upgrade_min_txns = 7;
  for (int i = 0; i < 2; ++i) {
    for (const char* c : {"W", "X", "Y", "Z"})
      m.Apply(c, Gender::kMale, 1, kRupee);
  }
  EXPECT_EQ(Names(Eval(m, t), Pattern::kUpgrade),
            (std::vector<std::string>{"W", "X", "Y", "Z"}));
}

// The evidence of each pattern: the values the decision compared, worked out
// by hand from the same goldens as above.
TEST(MerchantState, UpgradeEvidenceIsTheComparedValues) {
  MerchantState m("M1");
  Thresholds t;
  t.upgrade_min_txns = 10;
  const std::pair<const char*, int> rows[] = {
      {"A", 5}, {"B", 3}, {"C", 1}, {"D", 1}, {"E", 1}};
  int64_t rupees = 1;
  for (auto [c, n] : rows) {
    for (int i = 0; i < n; ++i) m.Apply(c, Gender::kMale, 100, rupees * kRupee);
    ++rupees;
  }
  const auto d = Eval(m, t);
  ASSERT_EQ(d.size(), 1u);
  const Evidence& e = d[0].evidence;
  EXPECT_TRUE(e.known);
  EXPECT_EQ(e.merchant_total, 11u);
  EXPECT_EQ(e.count, 5u);
  EXPECT_EQ(e.weight_micro, 5 * kRupee);  // five transactions of 1 rupee
  EXPECT_EQ(e.count_bound_x100, 420u);    // P90 of counts = 4.2
  EXPECT_EQ(e.weight_bound_micro, 1.4 * kRupee);  // P10 of averages
  EXPECT_EQ(e.amount_paise, 500);
  EXPECT_EQ(e.female + e.male, 0u);  // not UPGRADE's
  EXPECT_EQ(e.chunk, "");            // the caller's to fill
}

TEST(MerchantState, ChildAndDeiEvidenceAreTheComparedValues) {
  MerchantState m("M1");
  for (int i = 0; i < 80; ++i) m.Apply("cheap", Gender::kFemale, 2299, 7);
  for (int i = 0; i < 3; ++i)
    m.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  Thresholds t;
  t.dei_min_female = 0;  // 1 woman > 0 and < 3 men
  const auto d = Eval(m, t);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].pattern, Pattern::kChild);
  EXPECT_EQ(d[0].evidence.merchant_total, 83u);
  EXPECT_EQ(d[0].evidence.count, 80u);
  EXPECT_EQ(d[0].evidence.amount_paise, 80 * 2299);
  EXPECT_EQ(d[1].pattern, Pattern::kDei);
  EXPECT_EQ(d[1].evidence.merchant_total, 83u);
  EXPECT_EQ(d[1].evidence.female, 1u);
  EXPECT_EQ(d[1].evidence.male, 3u);
  EXPECT_EQ(d[1].evidence.count, 0u);  // no customer for DEI-NEEDED
}

TEST(MerchantState, ChildGoldenAtTheBoundary) {
  // 80 transactions of 22.99: 80*2299 = 183920 < 2300*80 = 184000 -> CHILD.
  // 80 of 23.00: 184000 is not < 184000 -> no. 79 of 1.00: count < 80 -> no.
  MerchantState m("M1");
  for (int i = 0; i < 80; ++i) {
    m.Apply("cheap", Gender::kFemale, 2299, 1);
    m.Apply("exact", Gender::kFemale, 2300, 1);
    if (i < 79) m.Apply("few", Gender::kFemale, 100, 1);
  }
  EXPECT_EQ(Names(Eval(m, Thresholds{}), Pattern::kChild),
            (std::vector<std::string>{"cheap"}));
}

TEST(MerchantState, DeiGoldenHundredAndOneWomenHundredAndTwoMen) {
  // 101 > 100 women and 101 < 102 men -> DEI-NEEDED, customerName "".
  MerchantState m("M9");
  for (int i = 0; i < 101; ++i)
    m.Apply("f" + std::to_string(i), Gender::kFemale, 1, 1);
  for (int i = 0; i < 101; ++i)
    m.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  EXPECT_TRUE(Eval(m, Thresholds{}).empty())
      << "101 women vs 101 men is not fewer";
  m.Apply("m101", Gender::kMale, 1, 1);
  auto d = Eval(m, Thresholds{});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].pattern, Pattern::kDei);
  EXPECT_EQ(d[0].customer, "");
  EXPECT_EQ(d[0].merchant, "M9");
  m.Apply("m102", Gender::kMale, 1, 1);
  EXPECT_TRUE(Eval(m, Thresholds{}).empty()) << "once per merchant";
}

TEST(MerchantState, GenderSetsCountCustomersNotTransactions) {
  // 101 women make 1,000 transactions between them; 102 men one each.
  MerchantState m("M9");
  for (int r = 0; r < 10; ++r) {
    for (int i = 0; i < 101; ++i)
      m.Apply("f" + std::to_string(i), Gender::kFemale, 1, 1);
  }
  for (int i = 0; i < 102; ++i)
    m.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  EXPECT_EQ(Names(Eval(m, Thresholds{}), Pattern::kDei).size(), 1u);
}

// SPEC §4.2: a customer counts once, by the gender of its first
// transaction at the merchant, whatever later rows say.
TEST(MerchantState, FirstGenderDecidesHowACustomerCounts) {
  // 150 customers first buy as F and later have one row typed M; 120 are M
  // only: F = 150 > M = 120, so no DEI-NEEDED.
  MerchantState a("MA");
  for (int i = 0; i < 150; ++i)
    a.Apply("f" + std::to_string(i), Gender::kFemale, 1, 1);
  for (int i = 0; i < 150; ++i)
    a.Apply("f" + std::to_string(i), Gender::kMale, 1, 1);
  for (int i = 0; i < 120; ++i)
    a.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  EXPECT_TRUE(Names(Eval(a, Thresholds{}), Pattern::kDei).empty());
  // The mirror: 110 F only, 130 first M with a later F row: 110 > 100 and
  // 110 < 130, so DEI-NEEDED fires.
  MerchantState b("MB");
  for (int i = 0; i < 110; ++i)
    b.Apply("f" + std::to_string(i), Gender::kFemale, 1, 1);
  for (int i = 0; i < 130; ++i)
    b.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  for (int i = 0; i < 130; ++i)
    b.Apply("m" + std::to_string(i), Gender::kFemale, 1, 1);
  EXPECT_EQ(Names(Eval(b, Thresholds{}), Pattern::kDei).size(), 1u);
  // A customer first seen as neither (E, U, ...) never counts, even when a
  // later row says F: 101 such + 0 F/M -> no DEI; then 101 F and 102 M new.
  MerchantState c("MC");
  for (int i = 0; i < 101; ++i) {
    c.Apply("x" + std::to_string(i), Gender::kOther, 1, 1);
    c.Apply("x" + std::to_string(i), Gender::kFemale, 1, 1);
  }
  for (int i = 0; i < 102; ++i)
    c.Apply("m" + std::to_string(i), Gender::kMale, 1, 1);
  EXPECT_TRUE(Names(Eval(c, Thresholds{}), Pattern::kDei).empty())
      << "first-seen-as-other customers counted as female";
  // The same counts survive a snapshot.
  std::string image;
  b.Serialize(&image);
  std::string_view in = image;
  auto restored = MerchantState::Deserialize(&in);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  for (int i = 0; i < 20; ++i)
    (*restored)->Apply("m" + std::to_string(i), Gender::kFemale, 1, 1);
  EXPECT_TRUE(Eval(**restored, Thresholds{}).empty()) << "fires only once";
}

TEST(MerchantState, RestoredStateEvaluatesLikeTheOriginal) {
  std::mt19937_64 rng(3);
  Thresholds t;
  t.upgrade_min_txns = 50;
  t.child_min_txns = 5;
  t.dei_min_female = 3;
  MerchantState a("M");
  std::unique_ptr<MerchantState> b;
  int fired[3] = {0, 0, 0};
  for (int chunk = 0; chunk < 40; ++chunk) {
    std::vector<std::tuple<std::string, Gender, int64_t, int64_t>> rows;
    for (int i = 0; i < 20; ++i) {
      // Names on both sides of the inline limit (22 bytes) and far past it.
      const int c = static_cast<int>(rng() % 30);
      const size_t pad[] = {0, 19, 20, 21, 60};
      rows.emplace_back("c" + std::to_string(c) + std::string(pad[c % 5], 'x'),
                        static_cast<Gender>(rng() % 3),
                        static_cast<int64_t>(rng() % 5000) - 100,
                        static_cast<int64_t>(rng() % 3) * kRupee);
    }
    // b is a restored copy of a, taken before this chunk.
    std::string image;
    a.Serialize(&image);
    std::string_view in = image;
    auto restored = MerchantState::Deserialize(&in);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    ASSERT_TRUE(in.empty());
    b = std::move(restored).value();
    for (auto& [c, g, amt, w] : rows) {
      a.Apply(c, g, amt, w);
      b->Apply(c, g, amt, w);
    }
    auto da = Eval(a, t), db = Eval(*b, t);
    ASSERT_EQ(da.size(), db.size()) << "chunk " << chunk;
    for (size_t i = 0; i < da.size(); ++i) {
      EXPECT_TRUE(da[i].SameFinding(db[i]));
      ++fired[static_cast<size_t>(da[i].pattern) - 1];
    }
  }
  // Agreement on nothing would prove nothing: every pattern fired.
  for (size_t p = 0; p < 3; ++p) EXPECT_GT(fired[p], 0) << "PatId" << p + 1;
}

TEST(MerchantState, LongCustomerNamesKeepTheirIdentity) {
  Thresholds t;
  t.child_min_txns = 2;
  MerchantState m("M");
  const std::string long_a(100, 'a'), long_b = std::string(99, 'a') + "b";
  const std::string edge(22, 'e'), over(23, 'e');  // inline limit: 22 bytes
  for (const std::string& c : {long_a, long_b, edge, over}) {
    m.Apply(c, Gender::kFemale, 100, kRupee);  // 1 rupee: below the CHILD cap
  }
  EXPECT_EQ(m.customers(), 4u);
  std::string image;
  m.Serialize(&image);
  std::string_view in = image;
  auto restored = MerchantState::Deserialize(&in);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  for (MerchantState* s : {&m, restored->get()}) {
    EXPECT_TRUE(Eval(*s, t).empty());
    for (const std::string& c : {long_a, long_b, edge, over}) {
      s->Apply(c, Gender::kFemale, 100, kRupee);
    }
    EXPECT_EQ(s->customers(), 4u);  // the same four customers, found again
    std::vector<std::string> want = {long_a, long_b, edge, over};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(Names(Eval(*s, t), Pattern::kChild), want);
  }
}

TEST(MerchantState, CorruptImageIsAnErrorNotACrash) {
  MerchantState m("M");
  m.Apply("a", Gender::kFemale, 5, 5);
  m.Apply("b", Gender::kMale, 5, 5);
  std::string image;
  m.Serialize(&image);
  for (size_t n = 0; n < image.size(); ++n) {
    std::string_view in(image.data(), n);
    EXPECT_FALSE(MerchantState::Deserialize(&in).ok()) << n;
  }
  // Format 1 counted genders another way: refused, saying why.
  image[0] = 1;
  std::string_view in = image;
  auto old = MerchantState::Deserialize(&in);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("format 1"), std::string::npos)
      << old.status().message();
}

TEST(MerchantState, AggregatesAreTheSpecsPerMerchantAndPerPairState) {
  MerchantState m("M1");
  EXPECT_FALSE(m.FindPair("C1").has_value());
  m.Apply("C1", Gender::kFemale, 150, 7);
  m.Apply("C1", Gender::kMale, -50, 3);  // the pair keeps its first gender
  m.Apply("C2", Gender::kMale, 10, 1);
  m.Apply("C3", Gender::kOther, 1, 1);
  EXPECT_EQ(m.total(), 4u);
  EXPECT_EQ(m.female_customers(), 1u);
  EXPECT_EQ(m.male_customers(), 1u);
  const auto c1 = m.FindPair("C1");
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->count, 2u);
  EXPECT_EQ(c1->amount_paise, 100);
  EXPECT_EQ(c1->weight_micro, 10);
  EXPECT_EQ(c1->gender, Gender::kFemale);
  EXPECT_FALSE(m.FindPair("C4").has_value());
  // The same after a round trip through the image.
  std::string image;
  m.Serialize(&image);
  std::string_view in = image;
  auto r = MerchantState::Deserialize(&in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto again = (*r)->FindPair("C1");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->count, 2u);
  EXPECT_EQ((*r)->total(), 4u);
}

}  // namespace
// A merchant restored from a base image plus the deltas taken after it.
std::unique_ptr<MerchantState> Restore(const std::string& base,
                                       const std::vector<std::string>& deltas) {
  std::string_view in = base;
  auto m = MerchantState::Deserialize(&in);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return nullptr;
  EXPECT_TRUE(in.empty());
  for (const std::string& d : deltas) {
    std::string_view din = d;
    const Status s = (*m)->ApplyDelta(&din);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(din.empty());
  }
  return std::move(m).value();
}

std::string Image(const MerchantState& m) {
  std::string out;
  m.Serialize(&out);
  return out;
}

TEST(MerchantStateDelta, BasePlusDeltasIsTheFullImageAtEveryCheckpoint) {
  // Property: random rows, checkpointed at random points (a delta, or now
  // and then a new base), restored from base + deltas: the restored state's
  // full image is byte for byte the live state's, and a restored copy that
  // carries on with the same rows reports exactly what the live one does.
  Thresholds t;
  t.upgrade_min_txns = 30;
  t.child_min_txns = 4;
  t.dei_min_female = 2;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    MerchantState live("M");
    std::string base = Image(live);
    std::vector<std::string> deltas;
    std::unique_ptr<MerchantState> copy;  // restored at the last checkpoint
    int checkpoints = 0, fired = 0;
    const int customers = 5 + static_cast<int>(rng() % 60);
    for (int chunk = 0; chunk < 60; ++chunk) {
      const int rows = static_cast<int>(rng() % 25);
      for (int i = 0; i < rows; ++i) {
        const int c = static_cast<int>(rng() % customers);
        const size_t pad[] = {0, 21, 22, 23, 40};
        const std::string name =
            "c" + std::to_string(c) + std::string(pad[c % 5], 'y');
        const Gender g = static_cast<Gender>(rng() % 3);
        const int64_t amt = static_cast<int64_t>(rng() % 4000) - 50;
        const int64_t w = static_cast<int64_t>(rng() % 5) * kRupee;
        live.Apply(name, g, amt, w);
        if (copy) copy->Apply(name, g, amt, w);
      }
      auto dl = Eval(live, t);
      fired += static_cast<int>(dl.size());
      if (copy) {
        auto dc = Eval(*copy, t);
        ASSERT_EQ(dl.size(), dc.size())
            << "seed " << seed << " chunk " << chunk;
        for (size_t i = 0; i < dl.size(); ++i)
          ASSERT_TRUE(dl[i].SameFinding(dc[i])) << "seed " << seed;
      }
      if (rng() % 3 != 0) continue;
      ++checkpoints;
      if (rng() % 5 == 0) {
        base = Image(live);
        deltas.clear();
      } else {
        std::string d;
        live.SerializeDelta(&d);
        deltas.push_back(std::move(d));
      }
      live.MarkCheckpointed();
      EXPECT_FALSE(live.dirty());
      copy = Restore(base, deltas);
      ASSERT_TRUE(copy);
      ASSERT_EQ(Image(*copy), Image(live))
          << "seed " << seed << " after chunk " << chunk << " with "
          << deltas.size() << " deltas";
    }
    EXPECT_GT(checkpoints, 5);
    EXPECT_GT(fired, 0) << "seed " << seed;
  }
}

// Deltas of tens of thousands of changed pairs (their ids sorted by the
// counting sort, not std::sort, over 4,096) restore byte for byte too, and
// name every changed pair once, in ascending id order.
TEST(MerchantStateDelta, LargeDeltasRestoreByteForByte) {
  Thresholds t;
  t.upgrade_min_txns = 1000;
  std::mt19937_64 rng(99);
  MerchantState live("M");
  // Ids above 65,535 too, so both 16-bit passes order something.
  for (int c = 0; c < 90000; ++c) {
    live.Apply("c" + std::to_string(c), static_cast<Gender>(c % 3), 100,
               kRupee);
  }
  Eval(live, t);
  const std::string base = Image(live);
  live.MarkCheckpointed();
  std::vector<std::string> deltas;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40000; ++i) {
      const int c = static_cast<int>(rng() % 100000);  // some new
      live.Apply("c" + std::to_string(c), static_cast<Gender>(c % 3),
                 static_cast<int64_t>(rng() % 5000),
                 static_cast<int64_t>(rng() % 7) * kRupee);
    }
    Eval(live, t);
    EXPECT_GT(live.dirty_pairs(), 4096u);
    std::string d;
    live.SerializeDelta(&d);
    live.MarkCheckpointed();
    EXPECT_FALSE(live.dirty());
    deltas.push_back(std::move(d));
    auto copy = Restore(base, deltas);
    ASSERT_TRUE(copy);
    ASSERT_EQ(Image(*copy), Image(live)) << "round " << round;
  }
}

// A delta adding `names` to `m` (count 1, amount 0, weight 0, female),
// built by hand (docs/formats.md, "Detector delta"), so that it may hold
// what SerializeDelta never writes: a duplicate name.
std::string AddingDelta(const MerchantState& m,
                        const std::vector<std::string>& names) {
  std::string d;
  d.push_back(1);  // the delta format
  PutString(&d, m.id());
  PutVarint(&d, m.total() + names.size());
  d.push_back(0);  // DEI-NEEDED not reported
  PutVarint(&d, m.customers());
  PutVarint(&d, names.size());
  PutVarint(&d, 0);  // no changed pair
  for (const std::string& name : names) {
    PutString(&d, name);
    PutVarint(&d, 1);
    PutSigned(&d, 0);
    PutSigned(&d, 0);
    d.push_back(static_cast<char>(Gender::kFemale));
  }
  return d;
}

// New pairs of a delta are indexed in batches that hash names ahead (more
// than the 16 of the look-ahead, with and without a rehash): every name is
// found afterwards, and a name that repeats an old one or a new one 1-60
// pairs earlier is refused as a duplicate customer.
TEST(MerchantStateDelta, NewPairsAreIndexedAndDuplicatesRefused) {
  for (int old_n : {0, 1, 16, 40, 100}) {
    for (int added : {1, 16, 17, 33, 200}) {
      MerchantState live("M");
      for (int c = 0; c < old_n; ++c)
        live.Apply("old" + std::to_string(c), Gender::kMale, 1, kRupee);
      const std::string base = Image(live);
      std::vector<std::string> names;
      for (int c = 0; c < added; ++c) {
        names.push_back("new" + std::to_string(c) +
                        std::string(c % 3 == 0 ? 30 : 0, 'x'));  // long too
      }
      const std::string where =
          std::to_string(old_n) + " old, " + std::to_string(added) + " new";
      auto copy = Restore(base, {AddingDelta(live, names)});
      ASSERT_TRUE(copy) << where;
      ASSERT_EQ(copy->customers(), size_t(old_n + added)) << where;
      for (int c = 0; c < old_n; ++c)
        EXPECT_TRUE(copy->FindPair("old" + std::to_string(c))) << where;
      for (const std::string& name : names)
        EXPECT_TRUE(copy->FindPair(name)) << where << " " << name;
      EXPECT_FALSE(copy->FindPair("absent"));
      std::vector<std::pair<int, std::string>> dups;  // (at, repeated name)
      for (int back : {1, 15, 16, 17, 60}) {
        if (back < added) dups.push_back({back, names[0]});
        if (added - 1 - back >= 0)
          dups.push_back({added - 1, names[added - 1 - back]});
      }
      if (old_n > 0)
        dups.push_back({added / 2, "old" + std::to_string(old_n - 1)});
      for (const auto& [at, name] : dups) {
        std::vector<std::string> bad = names;
        bad[at] = name;
        std::string_view in = base;
        auto m = MerchantState::Deserialize(&in);
        ASSERT_TRUE(m.ok());
        const std::string d = AddingDelta(**m, bad);
        std::string_view din = d;
        const Status s = (*m)->ApplyDelta(&din);
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << where << " at " << at;
        EXPECT_NE(s.message().find("duplicate customer"), std::string::npos)
            << where << " at " << at << ": " << s.message();
      }
    }
  }
}

TEST(MerchantStateDelta, DeltaHoldsOnlyWhatChanged) {
  MerchantState m("M");
  for (int c = 0; c < 1000; ++c) {
    m.Apply("customer-" + std::to_string(c), Gender::kMale, 100, kRupee);
  }
  Thresholds t;
  t.upgrade_min_txns = 1'000'000;  // no UPGRADE: no flag changes
  Eval(m, t);
  m.MarkCheckpointed();
  const std::string full = Image(m);
  // One existing customer twice, one new one.
  m.Apply("customer-7", Gender::kFemale, 5, kRupee);
  m.Apply("customer-7", Gender::kFemale, 5, kRupee);
  m.Apply("newcomer", Gender::kFemale, 5, kRupee);
  EXPECT_EQ(m.dirty_pairs(), 2u);
  std::string d;
  m.SerializeDelta(&d);
  EXPECT_LT(d.size(), 60u) << "a full image is " << full.size();
  std::string_view in = full;
  auto r = MerchantState::Deserialize(&in).value();
  std::string_view din = d;
  ASSERT_TRUE(r->ApplyDelta(&din).ok());
  EXPECT_EQ(Image(*r), Image(m));
  const auto p = r->FindPair("customer-7").value();
  EXPECT_EQ(p.count, 3u);
  EXPECT_EQ(p.amount_paise, 110);
  EXPECT_EQ(p.gender, Gender::kMale);  // the first row's
  EXPECT_EQ(r->FindPair("newcomer")->count, 1u);
  EXPECT_EQ(r->female_customers(), 1u);
  EXPECT_EQ(r->male_customers(), 1000u);
  EXPECT_EQ(r->total(), 1003u);
}

TEST(MerchantStateDelta, UpgradeFlagOfAnUntouchedPairIsInTheDelta) {
  // UPGRADE can fire for a customer the chunk did not touch (the
  // percentiles moved): that flag change must reach the delta.
  Thresholds t;
  t.upgrade_min_txns = 10;
  MerchantState m("M");
  // A frequent customer of low average weight; the total is not yet over
  // the threshold.
  for (int i = 0; i < 5; ++i) m.Apply("big", Gender::kMale, 100, kRupee / 10);
  for (int c = 0; c < 5; ++c)
    m.Apply("small" + std::to_string(c), Gender::kMale, 100, 9 * kRupee);
  EXPECT_TRUE(Eval(m, t).empty());
  m.MarkCheckpointed();
  const std::string base = Image(m);
  m.Apply("small0", Gender::kMale, 100, 9 * kRupee);  // total 11 > 10
  const auto found = Eval(m, t);
  ASSERT_EQ(Names(found, Pattern::kUpgrade), std::vector<std::string>{"big"});
  std::string d;
  m.SerializeDelta(&d);
  auto r = Restore(base, {d});
  EXPECT_EQ(Image(*r), Image(m));
  // The restored state does not report "big" again.
  r->Apply("small1", Gender::kMale, 100, 9 * kRupee);
  EXPECT_TRUE(Names(Eval(*r, t), Pattern::kUpgrade).empty());
}

TEST(MerchantStateDelta, OutOfOrderForeignOrDamagedDeltasAreRefused) {
  MerchantState m("M");
  m.Apply("a", Gender::kFemale, 100, kRupee);
  Thresholds t;
  Eval(m, t);
  const std::string base = Image(m);
  m.MarkCheckpointed();
  m.Apply("b", Gender::kMale, 100, kRupee);
  m.Apply("a", Gender::kMale, 100, kRupee);
  Eval(m, t);
  std::string d1;
  m.SerializeDelta(&d1);
  m.MarkCheckpointed();
  m.Apply("c", Gender::kMale, 100, kRupee);
  Eval(m, t);
  std::string d2;
  m.SerializeDelta(&d2);
  // d2 straight on the base (d1 skipped or applied after it).
  {
    std::string_view in = base;
    auto r = MerchantState::Deserialize(&in).value();
    std::string_view din = d2;
    const Status s = r->ApplyDelta(&din);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find("out of order"), std::string::npos)
        << s.message();
  }
  // Another merchant's delta.
  {
    std::string_view in = base;
    auto r = MerchantState::Deserialize(&in).value();
    MerchantState other("N");
    std::string od;
    other.SerializeDelta(&od);
    std::string_view din = od;
    EXPECT_EQ(r->ApplyDelta(&din).code(), StatusCode::kCorruption);
  }
  // Every truncation and every byte flip of d1: refused, or (a flip that
  // still parses) never a crash. Truncations are always refused.
  for (size_t len = 0; len < d1.size(); ++len) {
    std::string_view in = base;
    auto r = MerchantState::Deserialize(&in).value();
    std::string_view din = std::string_view(d1).substr(0, len);
    EXPECT_EQ(r->ApplyDelta(&din).code(), StatusCode::kCorruption) << len;
  }
  for (size_t at = 0; at < d1.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = d1;
      bad[at] ^= static_cast<char>(1 << bit);
      std::string_view in = base;
      auto r = MerchantState::Deserialize(&in).value();
      std::string_view din = bad;
      (void)r->ApplyDelta(&din);
    }
  }
}

}  // namespace txflow
