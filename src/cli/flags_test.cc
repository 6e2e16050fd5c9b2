#include "cli/flags.h"

#include <gtest/gtest.h>

namespace txflow {
namespace {

struct Parsed {
  std::string root;
  uint64_t rows = 10;
  std::chrono::milliseconds every{5000};
  bool drain = false;
};

Status ParseInto(Parsed& p, const std::vector<std::string>& args,
                 bool* help = nullptr) {
  FlagSet f("txflow t", "test");
  f.String("root", &p.root, "URI", "root", true);
  f.Uint("rows", &p.rows, "rows");
  f.Duration("every", &p.every, "period");
  f.Bool("drain", &p.drain, "drain");
  Status s = f.Parse(args);
  if (help) *help = f.help_requested();
  return s;
}

TEST(FlagSet, AcceptsSpaceAndEqualsForms) {
  Parsed p;
  ASSERT_TRUE(ParseInto(p, {"--root", "s3://b/p", "--rows=1_000", "--every",
                            "250ms", "--drain"})
                  .ok());
  EXPECT_EQ(p.root, "s3://b/p");
  EXPECT_EQ(p.rows, 1000u);
  EXPECT_EQ(p.every.count(), 250);
  EXPECT_TRUE(p.drain);
}

TEST(FlagSet, KeepsDefaultsForAbsentFlags) {
  Parsed p;
  ASSERT_TRUE(ParseInto(p, {"--root=x"}).ok());
  EXPECT_EQ(p.rows, 10u);
  EXPECT_EQ(p.every.count(), 5000);
  EXPECT_FALSE(p.drain);
}

TEST(FlagSet, UsageErrorsNameTheFlag) {
  Parsed p;
  auto msg = [&](std::vector<std::string> args) {
    return ParseInto(p, args).message();
  };
  EXPECT_EQ(msg({}), "missing required flag --root");
  EXPECT_EQ(msg({"--root", "x", "--bogus", "1"}), "unknown flag --bogus");
  EXPECT_EQ(msg({"--root", "x", "--rows", "-3"}),
            "--rows: '-3' is not a non-negative integer");
  EXPECT_EQ(msg({"--root", "x", "--rows"}), "--rows needs a value");
  EXPECT_EQ(msg({"--root", "x", "extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(msg({"--root", "x", "--root", "y"}), "--root given twice");
  EXPECT_EQ(msg({"--root", "x", "--every", "5 parsecs"}),
            "--every: '5 parsecs' has an unknown unit (use ms, s, m, h)");
}

TEST(FlagSet, HelpWinsOverErrors) {
  Parsed p;
  bool help = false;
  EXPECT_TRUE(ParseInto(p, {"--bogus", "--help"}, &help).ok());
  EXPECT_TRUE(help);
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("5")->count(), 5000);
  EXPECT_EQ(ParseDuration("5s")->count(), 5000);
  EXPECT_EQ(ParseDuration("2m")->count(), 120000);
  EXPECT_EQ(ParseDuration("1h")->count(), 3600000);
  EXPECT_EQ(ParseDuration("0ms")->count(), 0);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration("1.5s").ok());
}

}  // namespace
}  // namespace txflow

namespace txflow {
namespace {

TEST(FlagSet, RepeatableStringsCollectEveryOccurrenceInOrder) {
  std::vector<std::string> hooks;
  std::string once;
  FlagSet flags("t", "s");
  flags.Strings("hook", &hooks, "URL", "h");
  flags.String("once", &once, "X", "o");
  ASSERT_TRUE(flags.Parse({"--hook", "a", "--hook=b"}).ok());
  EXPECT_EQ(hooks, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(flags.Parse({"--hook", ""}).ok());
  FlagSet twice("t", "s");
  twice.String("once", &once, "X", "o");
  EXPECT_FALSE(twice.Parse({"--once", "a", "--once", "b"}).ok());
}

}  // namespace
}  // namespace txflow
