#include "obs/notifier.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace txflow::obs {
namespace {

TEST(ObsNotifier, WebhookLabelKeepsTheHostOnly) {
  EXPECT_EQ(WebhookLabel(0, "https://user:pw@hooks.example.com/T0/B1/s3cr3t?x"),
            "webhook #1 (hooks.example.com)");
  EXPECT_EQ(WebhookLabel(1, "garbage"), "webhook #2");
}

TEST(ObsNotifier, JsonHasTheTextAndStructuredFieldsEscaped) {
  NotifierOptions o;
  o.host = "h";
  o.version = "1.0";
  o.pid = 42;
  const std::string j = AlertJson({"stalled", "x", "/r", "a \"b\"\n", 0}, o);
  EXPECT_EQ(j,
            "{\"text\":\"txflow x stalled on h (/r): a \\\"b\\\"\\n\","
            "\"event\":\"stalled\",\"mechanism\":\"x\",\"root\":\"/r\","
            "\"reason\":\"a \\\"b\\\"\\n\",\"host\":\"h\",\"version\":\"1.0\","
            "\"since\":\"1970-01-01T00:00:00.000Z\",\"pid\":42}");
}

TEST(ObsNotifier, CommandGetsTheJsonOnStdinAndFailuresAreRetried) {
  const std::string dir = ::testing::TempDir();
  const std::string out = dir + "/obs_notifier_out.txt";
  const std::string count = dir + "/obs_notifier_count.txt";
  std::remove(out.c_str());
  std::remove(count.c_str());
  NotifierOptions o;
  o.backoff_base_ms = 1;
  o.backoff_cap_ms = 2;
  // Fails on the first call, succeeds on the second.
  o.commands = {"echo x >> " + count + "; [ $(wc -l < " + count +
                ") -ge 2 ] && cat > " + out};
  Notifier n(o);
  n.Post({"stopped", "y", "/r", "boom", 0});
  ASSERT_TRUE(n.Drain(std::chrono::seconds(10)));
  std::ifstream in(out);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), AlertJson({"stopped", "y", "/r", "boom", 0}, o));
  EXPECT_EQ(n.delivered(), 1u);
  EXPECT_EQ(n.failed(), 0u);
}

TEST(ObsNotifier, HungCommandTimesOutAndIsGivenUp) {
  NotifierOptions o;
  o.commands = {"sleep 30"};
  o.command_timeout = std::chrono::milliseconds(100);
  o.max_attempts = 2;
  o.backoff_base_ms = 1;
  o.backoff_cap_ms = 2;
  Notifier n(o);
  const auto start = std::chrono::steady_clock::now();
  n.Post({"stopped", "y", "/r", "boom", 0});
  ASSERT_TRUE(n.Drain(std::chrono::seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(n.failed(), 1u);
}

TEST(ObsNotifier, DeadWebhookNeverBlocksPost) {
  NotifierOptions o;
  o.webhooks = {"http://127.0.0.1:1/secret"};  // nothing listens on port 1
  o.max_queue = 2;
  Notifier n(o);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) n.Post({"stalled", "x", "/r", "r", 0});
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(500));
  EXPECT_GE(n.dropped(), 7u);
}

}  // namespace
}  // namespace txflow::obs
