#include "obs/notifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace txflow::obs {
namespace {

using Clock = std::chrono::steady_clock;

// A webhook receiver on loopback that reads the request and then never
// answers (`trickle` false) or streams a 200 answer a few bytes at a time
// forever (`trickle` true): the receivers a total timeout is for.
class BadReceiver {
 public:
  explicit BadReceiver(bool trickle) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/s3cr3t";
    thread_ = std::thread([this, trickle] {
      std::vector<int> clients;
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) {
          const int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) clients.push_back(c);
          if (c >= 0 && trickle) {
            const char head[] =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
            (void)!::send(c, head, sizeof head - 1, MSG_NOSIGNAL);
          }
        }
        for (int c : clients) {
          if (trickle) (void)!::send(c, "x", 1, MSG_NOSIGNAL);
        }
      }
      for (int c : clients) ::close(c);
    });
  }
  ~BadReceiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

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

TEST(ObsNotifier, TricklingWebhookIsCutOffByTheTotalTimeout) {
  BadReceiver trickle(true);
  NotifierOptions o;
  o.webhooks = {trickle.url()};
  o.http_timeout = std::chrono::milliseconds(500);
  o.max_attempts = 1;
  Notifier n(o);
  const auto start = Clock::now();
  n.Post({"stopped", "y", "/r", "boom", 0});
  // Bytes keep arriving, so only a total timeout (or the answer cap) ends it.
  ASSERT_TRUE(n.Drain(std::chrono::seconds(5)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(n.failed(), 1u);
}

TEST(ObsNotifier, StuckSinksNeitherDelayALiveOneNorTheDestructor) {
  BadReceiver hang(false), trickle(true);
  const std::string out = ::testing::TempDir() + "/obs_notifier_live.txt";
  std::remove(out.c_str());
  NotifierOptions o;
  // Stuck sinks first, each longer than the test: only a per-sink thread
  // lets the live command run, and only aborting them ends the destructor.
  o.webhooks = {hang.url(), trickle.url()};
  o.commands = {"sleep 100", "cat > " + out};
  o.http_timeout = std::chrono::seconds(100);
  o.command_timeout = std::chrono::seconds(100);
  auto n = std::make_unique<Notifier>(o);
  n->Post({"stopped", "y", "/r", "boom", 0});
  const auto start = Clock::now();
  while (n->delivered() == 0 &&
         Clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(n->delivered(), 1u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(n->Drain(std::chrono::milliseconds(300)));
  const auto stop = Clock::now();
  n.reset();
  EXPECT_LT(Clock::now() - stop, std::chrono::milliseconds(2500));
}

TEST(ObsNotifier, CommandOutputDoesNotReachOurStdoutOrStderr) {
  NotifierOptions o;
  o.commands = {"echo to-stdout; echo to-stderr >&2"};
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  {
    Notifier n(o);
    n.Post({"stopped", "y", "/r", "boom", 0});
    ASSERT_TRUE(n.Drain(std::chrono::seconds(10)));
  }
  const std::string got_out = ::testing::internal::GetCapturedStdout();
  const std::string got_err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(got_out.find("to-std"), std::string::npos) << got_out;
  EXPECT_EQ(got_err.find("to-std"), std::string::npos) << got_err;
}

TEST(ObsNotifier, JsonIsValidUtf8ForARootWithInvalidBytes) {
  const std::string j = AlertJson({"stalled", "x", "/r\xff\xc3", "r", 0}, {});
  EXPECT_NE(j.find(R"("root":"/r\ufffd\ufffd")"), std::string::npos) << j;
  EXPECT_EQ(j.find('\xff'), std::string::npos);
}

}  // namespace
}  // namespace txflow::obs
