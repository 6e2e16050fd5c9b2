#include "chunker/chunker.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "common/log.h"
#include "io/fault_injection_file_system.h"
#include "testing/test_storage.h"

namespace txflow {
namespace {

constexpr int64_t kStart = 1'795'614'222'000;

// A source built record by record, so record boundaries are known without
// scanning: quoted newlines, "" escapes, CRLF, stray quotes, optional final
// newline.
struct Source {
  std::string text;
  std::vector<size_t> record_ends;  // byte offset after each record
};

Source RandomSource(std::mt19937_64& rng, int records, bool final_newline) {
  Source s;
  s.text = rng() % 2 ? "step,customer,amount\r\n" : "step,customer,amount\n";
  for (int r = 0; r < records; ++r) {
    const int fields = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < fields; ++f) {
      if (f > 0) s.text += ',';
      const int len = static_cast<int>(rng() % 12);
      if (rng() % 3 == 0) {
        s.text += '"';
        for (int i = 0; i < len; ++i) {
          const char c = "ab,\n\r\"'x"[rng() % 8];
          s.text += c == '"' ? std::string("\"\"") : std::string(1, c);
        }
        s.text += '"';
      } else {
        s.text += 'v';
        for (int i = 0; i < len; ++i) s.text += "ab'\".1 "[rng() % 7];
      }
    }
    const bool last = r == records - 1;
    if (!last || final_newline) s.text += rng() % 4 == 0 ? "\r\n" : "\n";
    s.record_ends.push_back(s.text.size());
  }
  return s;
}

class ChunkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetLogQuiet(true); }

  void Open(const std::string& store) {
    store_ = store;
    root_ =
        std::move(OpenFileSystem(testing::TestRoot(store + "/root")).value());
    src_fs_ =
        std::move(OpenFileSystem(testing::TestRoot(store + "/in")).value());
  }
  void SetSource(const std::string& text) {
    ASSERT_TRUE(src_fs_->Write("tx.csv", text, {}).ok());
  }
  std::unique_ptr<Chunker> NewChunker(const ChunkerOptions& o,
                                      FileSystem* root = nullptr) {
    // One source URI for every store, so roots of different runs compare equal.
    return std::make_unique<Chunker>(src_fs_.get(), "tx.csv", "in/tx.csv",
                                     root ? root : root_.get(), o, &clock_);
  }
  // Ticks until drained; fails the test on error or after too many ticks.
  void Drain(ChunkerOptions o, FileSystem* root = nullptr) {
    o.drain = true;
    auto c = NewChunker(o, root);
    for (int i = 0; i < 100'000; ++i) {
      auto r = c->Tick();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (r->drained) return;
    }
    FAIL() << "never drained";
  }
  // The keys whose content differs between two snapshots, for messages.
  static std::string Diff(const std::map<std::string, std::string>& a,
                          const std::map<std::string, std::string>& b) {
    std::string out;
    for (const auto& [k, v] : a) {
      auto it = b.find(k);
      if (it == b.end())
        out += " only-left:" + k;
      else if (it->second != v)
        out += " differs:" + k;
    }
    for (const auto& [k, v] : b) {
      if (!a.count(k)) out += " only-right:" + k;
    }
    return out;
  }
  std::map<std::string, std::string> Objects() {
    std::map<std::string, std::string> out;
    for (const auto& info : root_->List({"", "", 0}).value()) {
      out[info.key] = root_->Read(info.key).value();
    }
    return out;
  }
  // Checks the SPEC §3 property: each chunk is the header plus whole records,
  // named by its first record, full except the last; bodies concatenate to the
  // source (plus the '\n' a last record lacked).
  void ExpectChunksConcatenateTo(const Source& src, uint64_t rows,
                                 bool full_but_last = true) {
    const std::string header = src.text.substr(0, src.text.find('\n') + 1);
    std::string joined;
    uint64_t next_record = 0;
    auto list = root_->List({std::string(kLandingPrefix), "", 0});
    ASSERT_TRUE(list.ok());
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& info = (*list)[i];
      ASSERT_EQ(ParseChunkKey(info.key), next_record) << info.key;
      const std::string chunk = root_->Read(info.key).value();
      ASSERT_EQ(chunk.compare(0, header.size(), header), 0) << info.key;
      joined += chunk.substr(header.size());
      // Record count by construction: where does the joined text end?
      const size_t source_end =
          header.size() +
          std::min(joined.size(), src.text.size() - header.size());
      const auto it =
          std::find(src.record_ends.begin(), src.record_ends.end(), source_end);
      ASSERT_NE(it, src.record_ends.end())
          << info.key << " does not end at a record end";
      const uint64_t end_record =
          static_cast<uint64_t>(it - src.record_ends.begin()) + 1;
      if (full_but_last && i + 1 < list->size()) {
        EXPECT_EQ(end_record - next_record, rows) << info.key;
      }
      EXPECT_LE(end_record - next_record, rows);
      next_record = end_record;
    }
    std::string expected = src.text.substr(header.size());
    if (!expected.empty() && expected.back() != '\n') expected += '\n';
    EXPECT_EQ(joined, expected);
    EXPECT_EQ(next_record, src.record_ends.size());
  }

  ManualClock clock_{kStart};
  std::string store_;
  std::unique_ptr<FileSystem> root_, src_fs_;
};

TEST_F(ChunkerTest, ChunkKeyRoundTrips) {
  EXPECT_EQ(ChunkKey(10'000), "landing_zone/chunk-000000010000.csv");
  EXPECT_EQ(ParseChunkKey("landing_zone/chunk-000000010000.csv"), 10'000u);
  EXPECT_EQ(ParseChunkKey("landing_zone/chunk-00000001000x.csv"), std::nullopt);
  EXPECT_EQ(ParseChunkKey("landing_zone/chunk-000000010000.csv.txflow-tmp-1"),
            std::nullopt);
  EXPECT_EQ(ParseChunkKey("landing_zone/../x"), std::nullopt);
}

TEST_F(ChunkerTest, DrainedChunksConcatenateToRandomSources) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 150; ++round) {
    Open("prop-" + std::to_string(round));
    const Source src =
        RandomSource(rng, 1 + static_cast<int>(rng() % 120), rng() % 2);
    SetSource(src.text);
    ChunkerOptions o;
    o.chunk_rows = 1 + rng() % 25;
    o.max_chunks_per_tick = 1 + rng() % 3;
    ASSERT_NO_FATAL_FAILURE(Drain(o));
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(ExpectChunksConcatenateTo(src, o.chunk_rows));
    auto state = DecodeOffsetState(root_->Read(kOffsetKey).value(), "x");
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->next_record, src.record_ends.size());
    EXPECT_EQ(state->byte_offset, src.text.size());
  }
}

TEST_F(ChunkerTest, HeaderOnlySourceDrainsToNoChunks) {
  Open("header-only");
  SetSource("a,b,c\n");
  ASSERT_NO_FATAL_FAILURE(Drain({}));
  EXPECT_TRUE(root_->List({"landing_zone/", "", 0}).value().empty());
}

TEST_F(ChunkerTest, GrowingSourceAppendedInRandomPiecesKeepsProperty) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 40; ++round) {
    Open("grow-" + std::to_string(round));
    const Source src =
        RandomSource(rng, 50 + static_cast<int>(rng() % 200), rng() % 2);
    ChunkerOptions o;
    o.chunk_rows = 1 + rng() % 30;
    o.max_chunks_per_tick = 1 + rng() % 2;
    o.linger = std::chrono::milliseconds(rng() % 2 ? 0 : 1'000'000'000);
    size_t visible =
        src.text.find('\n') + 1 + rng() % 10;  // may cut the header too
    auto chunker = NewChunker(o);
    while (visible < src.text.size()) {
      SetSource(src.text.substr(0, visible));
      auto r = chunker->Tick();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      clock_.AdvanceMs(1000);
      visible = std::min(src.text.size(), visible + 1 + rng() % 200);
    }
    SetSource(src.text);
    ASSERT_NO_FATAL_FAILURE(Drain(o));
    SCOPED_TRACE("round " + std::to_string(round));
    // With linger 0 any tick may cut a short chunk; otherwise only the last.
    ASSERT_NO_FATAL_FAILURE(
        ExpectChunksConcatenateTo(src, o.chunk_rows, o.linger.count() != 0));
  }
}

TEST_F(ChunkerTest, PartialTailWaitsForLinger) {
  Open("linger");
  std::string text = "h\n";
  for (int i = 0; i < 25; ++i) text += std::to_string(i) + "\n";
  SetSource(text);
  ChunkerOptions o;
  o.chunk_rows = 10;
  o.max_chunks_per_tick = 5;
  o.linger = std::chrono::seconds(30);
  auto c = NewChunker(o);
  auto r = c->Tick();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chunks, 2u);  // 20 records; the 5 left wait
  clock_.AdvanceMs(29'999);
  EXPECT_EQ(c->Tick()->chunks, 0u);
  SetSource(text +
            "25\n");  // growth, seen by the next tick, restarts the linger
  clock_.AdvanceMs(20'000);
  EXPECT_EQ(c->Tick()->chunks, 0u);
  clock_.AdvanceMs(29'999);
  EXPECT_EQ(c->Tick()->chunks, 0u);
  clock_.AdvanceMs(1);
  r = c->Tick();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chunks, 1u);
  EXPECT_EQ(r->records, 6u);
  EXPECT_EQ(root_->Read(ChunkKey(20)).value(), "h\n20\n21\n22\n23\n24\n25\n");
}

TEST_F(ChunkerTest, UnterminatedLastRecordIsTakenOnlyByDrain) {
  Open("unterminated");
  SetSource("h\n1\n2");
  ChunkerOptions o;
  o.chunk_rows = 10;
  o.linger = std::chrono::milliseconds(0);
  EXPECT_EQ(NewChunker(o)->Tick()->records, 1u);  // "2" may still be growing
  ASSERT_NO_FATAL_FAILURE(Drain(o));
  EXPECT_EQ(root_->Read(ChunkKey(1)).value(), "h\n2\n");
}

TEST_F(ChunkerTest, TickReadsOnlyFromSavedOffset) {
  Open("o-chunk");
  std::string text = "h\n";
  for (int i = 0; i < 1000; ++i) text += "record-" + std::to_string(i) + "\n";
  auto counting = std::make_unique<FaultInjectionFileSystem>(
      std::move(OpenFileSystem(testing::TestRoot("o-chunk/in")).value()));
  ASSERT_TRUE(counting->Write("tx.csv", text, {}).ok());
  ChunkerOptions o;
  o.chunk_rows = 10;
  Chunker c(counting.get(), "tx.csv", "src", root_.get(), o, &clock_);
  // Per tick: one stat, one header read, one read of about one chunk.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Tick().ok());
  EXPECT_EQ(counting->calls(FsOp::kStat), 20u);
  EXPECT_LE(counting->calls(FsOp::kReadRange), 20u * 2 + 2);
  EXPECT_EQ(counting->calls(FsOp::kRead), 0u);
}

// Crash safety: fail the k-th storage write (before or after it takes
// effect), then rerun with a healthy store. The end state must equal the
// undisturbed run's, byte for byte, for every k.
TEST_F(ChunkerTest, FailingEveryWriteInTurnConvergesToSameState) {
  std::mt19937_64 rng(99);
  const Source src = RandomSource(rng, 97, false);
  ChunkerOptions o;
  o.chunk_rows = 10;
  o.max_chunks_per_tick = 2;
  Open("crash-ref");
  SetSource(src.text);
  ASSERT_NO_FATAL_FAILURE(Drain(o));
  const auto reference = Objects();
  ASSERT_NO_FATAL_FAILURE(ExpectChunksConcatenateTo(src, o.chunk_rows));

  int cases = 0;
  for (FaultTiming timing : {FaultTiming::kBefore, FaultTiming::kAfter}) {
    for (uint64_t k = 1;; ++k) {
      Open("crash-" + std::to_string(static_cast<int>(timing)) + "-" +
           std::to_string(k));
      SetSource(src.text);
      auto faulty = std::make_unique<FaultInjectionFileSystem>(std::move(
          OpenFileSystem(testing::TestRoot(store_ + "/root")).value()));
      faulty->FailNth(FsOp::kWrite, k, Status::IOError("injected"), timing);
      ChunkerOptions d = o;
      d.drain = true;
      auto c = NewChunker(d, faulty.get());
      bool failed = false;
      for (int i = 0; i < 1000 && !failed; ++i) {
        auto r = c->Tick();
        failed = !r.ok();
        if (r.ok() && r->drained) break;
      }
      if (!failed) break;  // k is past the last write: every point covered
      ASSERT_NO_FATAL_FAILURE(Drain(o));  // restart on the healthy store
      const auto got = Objects();
      EXPECT_TRUE(got == reference)
          << "write " << k << " timing " << static_cast<int>(timing) << ":"
          << Diff(got, reference);
      ++cases;
    }
  }
  EXPECT_GT(cases, 20);
}

TEST_F(ChunkerTest, SimulatedCrashAfterEachMutationConverges) {
  std::mt19937_64 rng(5);
  const Source src = RandomSource(rng, 60, true);
  ChunkerOptions o;
  o.chunk_rows = 7;
  Open("sim-ref");
  SetSource(src.text);
  ASSERT_NO_FATAL_FAILURE(Drain(o));
  const auto reference = Objects();
  for (uint64_t n = 0; n < 30; ++n) {
    Open("sim-" + std::to_string(n));
    SetSource(src.text);
    auto faulty = std::make_unique<FaultInjectionFileSystem>(
        std::move(OpenFileSystem(testing::TestRoot(store_ + "/root")).value()));
    faulty->CrashAfterMutations(n);
    ChunkerOptions d = o;
    d.drain = true;
    auto c = NewChunker(d, faulty.get());
    for (int i = 0; i < 1000; ++i) {
      auto r = c->Tick();
      if (!r.ok() || r->drained) break;
    }
    ASSERT_NO_FATAL_FAILURE(Drain(o));
    const auto got = Objects();
    EXPECT_TRUE(got == reference)
        << "crash after " << n << ":" << Diff(got, reference);
  }
}

TEST_F(ChunkerTest, LingerChunkOrphanedByCrashIsAdoptedAfterGrowth) {
  Open("adopt");
  std::string text = "h\n";
  for (int i = 0; i < 4; ++i) text += std::to_string(i) + "\n";
  SetSource(text);
  ChunkerOptions o;
  o.chunk_rows = 10;
  o.linger = std::chrono::milliseconds(0);
  {
    auto faulty = std::make_unique<FaultInjectionFileSystem>(
        std::move(OpenFileSystem(testing::TestRoot("adopt/root")).value()));
    faulty->FailNth(FsOp::kWrite, 2,
                    Status::IOError("crash before offset save"));
    EXPECT_FALSE(NewChunker(o, faulty.get())->Tick().ok());
  }
  ASSERT_EQ(root_->Read(ChunkKey(0)).value(), "h\n0\n1\n2\n3\n");
  for (int i = 4; i < 30; ++i) text += std::to_string(i) + "\n";
  SetSource(text);  // now a full chunk would fit at record 0
  ASSERT_NO_FATAL_FAILURE(Drain(o));
  EXPECT_EQ(root_->Read(ChunkKey(0)).value(), "h\n0\n1\n2\n3\n");  // unchanged
  EXPECT_TRUE(root_->Stat(ChunkKey(4)).ok());
  std::string joined;
  for (const auto& info : root_->List({"landing_zone/", "", 0}).value()) {
    joined += root_->Read(info.key).value().substr(2);
  }
  EXPECT_EQ(joined, text.substr(2));
}

TEST_F(ChunkerTest, ForeignChunkAtCurrentPositionIsRefused) {
  Open("foreign");
  SetSource("h\n1\n2\n");
  ASSERT_TRUE(root_->Write(ChunkKey(0), "h\n9\n", {}).ok());
  ChunkerOptions o;
  o.linger = std::chrono::milliseconds(0);
  auto r = NewChunker(o)->Tick();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(
      r.status().message().find("chunk-000000000000.csv exists but differs"),
      std::string::npos)
      << r.status().message();
  EXPECT_TRUE(root_->Stat(kOffsetKey).status().IsNotFound());
}

class ChunkerErrorTest : public ChunkerTest {
 protected:
  // Chunks once, applies `damage` to the source, and expects the next tick to
  // fail with `code` and `text` and to change nothing in the root.
  void ExpectRefusal(const std::function<void()>& damage, StatusCode code,
                     const std::string& text) {
    SetSource("h,x\n1\n2\n3\n");
    ChunkerOptions o;
    o.chunk_rows = 2;
    ASSERT_TRUE(NewChunker(o)->Tick().ok());
    damage();
    const auto before = Objects();
    auto r = NewChunker(o)->Tick();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(text), std::string::npos)
        << r.status().message();
    const auto after = Objects();
    EXPECT_TRUE(after == before) << Diff(after, before);
  }
};

TEST_F(ChunkerErrorTest, ShrunkSourceIsRefused) {
  Open("err-shrink");
  ExpectRefusal([&] { SetSource("h,x\n1\n"); }, StatusCode::kInvalidArgument,
                "source shrank to 6 bytes, below the 8 already chunked");
}

TEST_F(ChunkerErrorTest, ChangedHeaderIsRefused) {
  Open("err-header");
  ExpectRefusal([&] { SetSource("h,y\n1\n2\n3\n4\n"); },
                StatusCode::kInvalidArgument, "header line changed");
}

TEST_F(ChunkerErrorTest, MissingSourceIsNotFound) {
  Open("err-missing");
  ExpectRefusal([&] { ASSERT_TRUE(src_fs_->Delete("tx.csv").ok()); },
                StatusCode::kNotFound, "in/tx.csv: source not found");
}

TEST_F(ChunkerErrorTest, CorruptOffsetFileIsRefused) {
  Open("err-corrupt");
  ExpectRefusal(
      [&] {
        std::string s = root_->Read(kOffsetKey).value();
        s[s.size() / 2] ^= 1;
        ASSERT_TRUE(root_->Write(kOffsetKey, s, {}).ok());
      },
      StatusCode::kCorruption, "state/offset.csv: corrupt offset file");
}

TEST_F(ChunkerTest, EmptySourceIsAClearError) {
  Open("err-empty");
  SetSource("");
  auto r = NewChunker({})->Tick();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("source is empty (no header line)"),
            std::string::npos);
  EXPECT_TRUE(root_->List({"", "", 0}).value().empty());
}

TEST_F(ChunkerTest, RootOfAnotherSourceIsRefused) {
  Open("err-other");
  SetSource("h\n1\n");
  ASSERT_TRUE(NewChunker({})->Tick().ok());
  Chunker other(src_fs_.get(), "tx.csv", "some/other.csv", root_.get(), {},
                &clock_);
  auto r = other.Tick();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("this root is chunking"),
            std::string::npos);
}

TEST_F(ChunkerTest, OverlongRecordIsAnErrorNotAStall) {
  Open("err-long");
  SetSource("h\n\"unterminated quote and then " + std::string(5000, 'x') +
            "\n");
  ChunkerOptions o;
  o.max_record_bytes = 1000;
  auto r = NewChunker(o)->Tick();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("record 0 at byte 2 is longer than 1000 bytes"),
      std::string::npos)
      << r.status().message();
}

// A terminated record over the limit is refused too, wherever it sits and
// however much of the source one read brings in.
TEST_F(ChunkerTest, OverlongTerminatedRecordIsAnErrorWhateverTheReadSize) {
  Open("err-long-terminated");
  SetSource("h\na\n" + std::string(5000, 'x') + "\nb\n");
  for (uint64_t rows : {1, 2, 10}) {
    ChunkerOptions o;
    o.max_record_bytes = 1000;
    o.chunk_rows = rows;
    o.drain = true;
    auto c = NewChunker(o);
    Status last;
    for (int i = 0; i < 10 && last.ok(); ++i) last = c->Tick().status();
    EXPECT_EQ(last.code(), StatusCode::kInvalidArgument) << rows;
    // Seen whole ("record 1 is longer than 1000 bytes (5001)") or while
    // still reading it ("record 1 at byte 4 is longer than 1000 bytes").
    EXPECT_NE(last.message().find("record 1 "), std::string::npos)
        << last.message();
    EXPECT_NE(last.message().find("is longer than 1000 bytes"),
              std::string::npos)
        << last.message();
  }
}

TEST_F(ChunkerTest, StaleOwnerIsFencedOutByOffsetVersion) {
  Open("fence");
  std::string text = "h\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + "\n";
  SetSource(text);
  ChunkerOptions o;
  o.chunk_rows = 10;
  auto a = NewChunker(o);
  auto b = NewChunker(o);
  ASSERT_TRUE(a->Tick().ok());
  ASSERT_TRUE(b->Tick().ok());  // b took over (say a's lease expired)
  auto r = a->Tick();           // a wakes up with a stale view
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  ASSERT_NO_FATAL_FAILURE(Drain(o));
  std::string joined;
  for (const auto& info : root_->List({"landing_zone/", "", 0}).value()) {
    joined += root_->Read(info.key).value().substr(2);
  }
  EXPECT_EQ(joined, text.substr(2));
}

}  // namespace
}  // namespace txflow
