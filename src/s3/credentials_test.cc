// The credential sources against a loopback HTTP server of the test's own
// (there is no ECS agent or STS here) and shell scripts as
// credential_process, the refresh rule with an injected clock, and the JSON
// parser. IMDSv2 runs against AWS's metadata mock in
// tests/credentials_e2e_test.cc.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "s3/credential_sources.h"
#include "s3/credentials_provider.h"
#include "s3/json.h"

namespace txflow::s3 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// One request per connection, answered with `answer` (status, body).
class LoopbackServer {
 public:
  struct Request {
    std::string head, body;
  };
  LoopbackServer(int status, std::string body)
      : status_(status), body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void Answer(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  // Requests for exactly `path` get this answer instead.
  void Route(const std::string& path, int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    routes_[path] = {status, std::move(body)};
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Request r = Read(c);
      std::string out;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(r);
        const size_t from = r.head.find(' ') + 1;
        const auto route =
            routes_.find(r.head.substr(from, r.head.find(' ', from) - from));
        const int status =
            route == routes_.end() ? status_ : route->second.first;
        const std::string& body =
            route == routes_.end() ? body_ : route->second.second;
        out = "HTTP/1.1 " + std::to_string(status) +
              " X\r\nConnection: close\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
      }
      (void)!::write(c, out.data(), out.size());
      ::close(c);
    }
  }
  static Request Read(int c) {
    std::string data;
    char buf[4096];
    size_t need = std::string::npos;
    while (data.size() < need) {
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, n);
      const size_t end = data.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        size_t length = 0;
        const size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < end) {
          length = std::stoul(data.substr(at + 16));
        }
        need = end + 4 + length;
      }
    }
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string::npos) return {data, ""};
    return {data.substr(0, end), data.substr(end + 4)};
  }

  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int status_;
  std::string body_;
  std::vector<Request> requests_;
  std::map<std::string, std::pair<int, std::string>> routes_;
};

// A server that answers each connection with `answer(fd, stop)` after
// reading the request head: for answers LoopbackServer cannot give (a
// trickle, an endless body).
class RawServer {
 public:
  using Answer = std::function<void(int, const std::atomic<bool>&)>;
  explicit RawServer(Answer answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string head;
        char ch;
        while (head.find("\r\n\r\n") == std::string::npos &&
               ::read(c, &ch, 1) == 1) {
          head += ch;
        }
        ++requests_;
        answer_(c, stop_);
        ::close(c);
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_; }
  // Writes all of `text`; false once the peer is gone.
  static bool Send(int fd, std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  Answer answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string Utc(WallClock::time_point t) {
  const std::time_t s = WallClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ContainerJson(const std::string& key, WallClock::time_point exp) {
  return R"({"AccessKeyId": ")" + key +
         R"(", "SecretAccessKey": "SECRETKEY", "Token": "SESSIONTOKEN", )"
         R"("Expiration": ")" +
         Utc(exp) + R"("})";
}

void ExpectNoSecret(const Status& s) {
  for (const char* secret :
       {"SECRETKEY", "SESSIONTOKEN", "WEBIDTOKEN", "CONTAINERTOKEN"}) {
    EXPECT_EQ(s.message().find(secret), std::string::npos) << s.message();
  }
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("txflow-creds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text,
                    bool executable = false) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    if (executable) {
      fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
    }
    return p.string();
  }
  fs::path dir_;
  HttpClient http_{HttpOptions{"", 1000, 5000}};
};

TEST(FlatJson, ParsesAFlatObjectAndRefusesTheRest) {
  auto j = ParseFlatJsonObject(
      R"( {"a": "x\"\u00e9\ud83d\ude00", "Version": 1, "t": true, "n": null} )");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->at("a"), "x\"\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(j->at("Version"), "1");
  EXPECT_EQ(j->at("t"), "true");
  for (const char* bad :
       {"", "[]", R"({"a": {"b": 1}})", R"({"a": [1]})", R"({"a": "x"} y)",
        R"({"a": "x",})", R"({"a": "x", "a": "y"})", R"({"a": "\q"})",
        R"({"a": "\ud800"})", R"({"a": "SECRET)", R"({"a": })",
        R"({"a": "SECRET" junk})"}) {
    auto r = ParseFlatJsonObject(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().find("SECRET"), std::string::npos);
    }
  }
}

TEST(RefreshRule, FiveMinutesOrHalfTheLifetime) {
  const auto t0 = WallClock::from_time_t(1'000'000);
  EXPECT_EQ(RefreshTime(t0, t0 + 6h), t0 + 6h - 5min);
  EXPECT_EQ(RefreshTime(t0, t0 + 20s), t0 + 10s);
  // Never sooner than a second after the fetch, even when nearly expired.
  EXPECT_EQ(RefreshTime(t0, t0 + 500ms), t0 + 1s);
}

// A provider over a scripted fetcher and a clock the test moves.
struct Scripted {
  WallClock::time_point now = WallClock::from_time_t(1'000'000);
  std::vector<Result<TimedCredentials>> answers;
  size_t next = 0;
  RefreshingCredentialsProvider Make() {
    return RefreshingCredentialsProvider(
        "scripted",
        [this]() -> Result<TimedCredentials> {
          return answers.at(std::min(next++, answers.size() - 1));
        },
        [this] { return now; });
  }
};

TimedCredentials Timed(const std::string& id, WallClock::time_point exp) {
  return {{id, "SECRETKEY", "SESSIONTOKEN"}, exp};
}

TEST(RefreshingProvider, RefreshesBeforeExpiryNotBefore) {
  Scripted s;
  s.answers = {Timed("A", s.now + 1h), Timed("B", s.now + 2h)};
  auto p = s.Make();
  EXPECT_EQ(p.Get()->access_key_id, "A");
  s.now += 54min;  // 6 min left: still fresh
  EXPECT_EQ(p.Get()->access_key_id, "A");
  EXPECT_EQ(p.fetches(), 1);
  s.now += 2min;  // 4 min left: refreshed
  EXPECT_EQ(p.Get()->access_key_id, "B");
  EXPECT_EQ(p.fetches(), 2);
}

TEST(RefreshingProvider, FailedRefreshKeepsValidCredentialsThenFails) {
  Scripted s;
  s.answers = {Timed("A", s.now + 10min),
               Status::Unavailable("scripted: HTTP 503")};
  auto p = s.Make();
  EXPECT_EQ(p.Get()->access_key_id, "A");
  s.now += 8min;  // in the window; the refresh fails, A still works
  EXPECT_EQ(p.Get()->access_key_id, "A");
  s.now += 3min;  // expired: the failure is the answer, retryable
  auto r = p.Get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  ExpectNoSecret(r.status());
}

TEST(RefreshingProvider, RejectedCredentialsAreFetchedAgainAtOnce) {
  Scripted s;
  s.answers = {Timed("A", s.now + 1h), Timed("B", s.now + 1h)};
  auto p = s.Make();
  const Credentials a = *p.Get();
  EXPECT_TRUE(p.Invalidate(a));
  EXPECT_EQ(p.Get()->access_key_id, "B");
  // A stale rejection (of A, after B came) does not throw B away.
  EXPECT_TRUE(p.Invalidate(a));
  EXPECT_EQ(p.Get()->access_key_id, "B");
  EXPECT_EQ(p.fetches(), 2);
  EXPECT_FALSE(StaticCredentialsProvider(a, "env")->Invalidate(a));
}

// The reviewer's scenarios: expired credentials are never handed out, and
// a failing source is asked at most once a second however many callers
// there are, after an expiry, after a rejection, or before any success.
TEST(RefreshingProvider, ExpiredCredentialsAreNeverReturned) {
  Scripted s;
  s.answers = {Timed("A", s.now + 10min),
               Status::Unavailable("scripted: HTTP 503")};
  auto p = s.Make();
  EXPECT_EQ(p.Get()->access_key_id, "A");
  s.now += 10min + 1s;  // expired, and the refresh fails
  for (int i = 0; i < 3; ++i) {
    auto r = p.Get();
    ASSERT_FALSE(r.ok()) << "call " << i << " got " << r->access_key_id;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  }
  EXPECT_EQ(p.fetches(), 2);
  // Short-lived credentials: the refresh time (a second after the fetch)
  // lies past their expiration; they are not used after it.
  Scripted t;
  t.answers = {Timed("S", t.now + 500ms),
               Status::Unavailable("scripted: HTTP 503")};
  auto q = t.Make();
  EXPECT_EQ(q.Get()->access_key_id, "S");
  t.now += 600ms;
  EXPECT_FALSE(q.Get().ok());
}

TEST(RefreshingProvider, FailingSourceIsAskedAtMostOnceASecond) {
  Scripted s;
  s.answers = {Timed("A", s.now + 10min),
               Status::Unavailable("scripted: HTTP 503")};
  auto p = s.Make();
  const Credentials a = *p.Get();
  s.now += 10min + 1s;  // expired: one failing fetch
  EXPECT_FALSE(p.Get().ok());
  EXPECT_EQ(p.fetches(), 2);
  p.Invalidate(a);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(p.Get().ok());
  EXPECT_EQ(p.fetches(), 2);
  s.now += 1s;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(p.Get().ok());
  EXPECT_EQ(p.fetches(), 3);

  // Never succeeded: the source's own error, repeated without a fetch.
  Scripted never;
  never.answers = {Status::PermissionDenied("scripted: HTTP 403")};
  auto q = never.Make();
  for (int i = 0; i < 5; ++i) {
    auto r = q.Get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find("HTTP 403"), std::string::npos);
  }
  EXPECT_EQ(q.fetches(), 1);
  never.now += 1s;
  EXPECT_FALSE(q.Get().ok());
  EXPECT_EQ(q.fetches(), 2);
}

// Concurrent callers of a failing source: at most one fetch a second.
TEST(RefreshingProvider, ConcurrentCallersOfAFailingSourceShareOneFetch) {
  std::atomic<int> fetches{0};
  const auto t0 = WallClock::from_time_t(1'000'000);
  RefreshingCredentialsProvider p(
      "failing",
      [&]() -> Result<TimedCredentials> {
        fetches++;
        std::this_thread::sleep_for(1ms);
        return Status::Unavailable("failing: HTTP 503");
      },
      [&] { return t0; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) (void)p.Get();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fetches, 1);
}

TEST(RefreshingProvider, ExpiredAnswerIsAnErrorWithoutSecrets) {
  Scripted s;
  s.answers = {Timed("A", s.now - 1s)};
  auto r = s.Make().Get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expired"), std::string::npos);
  ExpectNoSecret(r.status());
}

// Many threads across several expiries: every Get() succeeds and fetches
// never overlap.
TEST(RefreshingProvider, ThreadsShareOneFetchAtATime) {
  std::atomic<int> in_fetch{0}, overlaps{0}, fetches{0};
  RefreshingCredentialsProvider p("threads", [&]() -> Result<TimedCredentials> {
    if (in_fetch++ > 0) overlaps++;
    std::this_thread::sleep_for(2ms);
    in_fetch--;
    return Timed("K" + std::to_string(fetches++), WallClock::now() + 1500ms);
  });
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      const auto end = std::chrono::steady_clock::now() + 3s;
      while (std::chrono::steady_clock::now() < end) {
        if (!p.Get().ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(overlaps, 0);
  EXPECT_GE(fetches, 3);  // refreshed at least every ~0.75 s
}

TEST_F(CredentialsTest, ContainerRequestAndAnswer) {
  LoopbackServer server(200, ContainerJson("ASIA1", WallClock::now() + 1h));
  CredentialSource s;
  s.kind = CredentialSource::Kind::kContainer;
  s.url = server.Url("/v2/credentials/abc");
  s.auth_token = "CONTAINERTOKEN";
  auto got = FetchContainer(s, http_);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->credentials.access_key_id, "ASIA1");
  EXPECT_EQ(got->credentials.secret_access_key, "SECRETKEY");
  EXPECT_EQ(got->credentials.session_token, "SESSIONTOKEN");
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string head = server.requests()[0].head;
  EXPECT_EQ(head.rfind("GET /v2/credentials/abc HTTP/1.1", 0), 0u) << head;
  EXPECT_NE((head + "\r\n").find("\r\nAuthorization: CONTAINERTOKEN\r\n"),
            std::string::npos)
      << head;
  // The token file wins and is read at every fetch (EKS rotates it).
  s.auth_token_file = Write("token", "FILETOKEN\n");
  ASSERT_TRUE(FetchContainer(s, http_).ok());
  EXPECT_NE((server.requests()[1].head + "\r\n")
                .find("\r\nAuthorization: FILETOKEN\r\n"),
            std::string::npos);
}

TEST_F(CredentialsTest, ContainerErrorsNameTheCauseWithoutSecrets) {
  LoopbackServer server(200, R"({"AccessKeyId": "A", "SecretAccessKey": )");
  CredentialSource s;
  s.kind = CredentialSource::Kind::kContainer;
  s.url = server.Url("/creds");
  s.auth_token = "CONTAINERTOKEN";
  auto bad_json = FetchContainer(s, http_);
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("bad JSON"), std::string::npos);
  EXPECT_NE(bad_json.status().message().find(s.url), std::string::npos);
  ExpectNoSecret(bad_json.status());

  server.Answer(403, "CONTAINERTOKEN refused");
  auto denied = FetchContainer(s, http_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("HTTP 403"), std::string::npos);
  ExpectNoSecret(denied.status());

  s.auth_token_file = (dir_ / "missing").string();
  auto no_file = FetchContainer(s, http_);
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.status().message().find(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=" + s.auth_token_file),
            std::string::npos);

  s.auth_token_file.clear();
  s.url = "http://127.0.0.1:1/creds";
  auto unreachable = FetchContainer(s, http_);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unreachable.status().message().find("127.0.0.1:1"),
            std::string::npos);
  ExpectNoSecret(unreachable.status());
}

TEST_F(CredentialsTest, ContainerCredentialsAreRefreshedWhenTheyExpire) {
  LoopbackServer server(200, ContainerJson("OLD", WallClock::now() + 2s));
  CredentialSource s;
  s.kind = CredentialSource::Kind::kContainer;
  s.url = server.Url("/creds");
  auto p = MakeCredentialsProvider(s, {}, "");
  EXPECT_EQ(p->Get()->access_key_id, "OLD");
  server.Answer(200, ContainerJson("NEW", WallClock::now() + 1h));
  EXPECT_EQ(p->Get()->access_key_id, "OLD");  // half the lifetime left
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(p->Get()->access_key_id, "NEW");
  EXPECT_EQ(server.requests().size(), 2u);
}

const char kStsAnswer[] = R"(<AssumeRoleWithWebIdentityResponse>
<AssumeRoleWithWebIdentityResult><Credentials>
<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>SECRETKEY</SecretAccessKey>
<SessionToken>SESSIONTOKEN</SessionToken>
<Expiration>2099-01-01T00:00:00Z</Expiration>
</Credentials></AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>)";

TEST_F(CredentialsTest, WebIdentityAsksStsUnsignedWithTheToken) {
  LoopbackServer server(200, kStsAnswer);
  CredentialSource s;
  s.kind = CredentialSource::Kind::kWebIdentity;
  s.url = server.Url();
  s.role_arn = "arn:aws:iam::123:role/job";
  s.session_name = "txflow-test";
  s.token_file = Write("token", "WEBIDTOKEN\n");
  auto got = FetchWebIdentity(s, http_);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->credentials.access_key_id, "ASIASTS");
  EXPECT_EQ(got->credentials.session_token, "SESSIONTOKEN");
  EXPECT_EQ(*got->expiration, *ParseIso8601("2099-01-01T00:00:00Z"));
  const auto r = server.requests().at(0);
  EXPECT_EQ(r.head.rfind("POST / HTTP/1.1", 0), 0u) << r.head;
  EXPECT_EQ(r.head.find("Authorization"), std::string::npos) << r.head;
  EXPECT_NE(r.head.find("application/x-www-form-urlencoded"),
            std::string::npos);
  for (const char* field :
       {"Action=AssumeRoleWithWebIdentity", "Version=2011-06-15",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fjob",
        "RoleSessionName=txflow-test", "WebIdentityToken=WEBIDTOKEN"}) {
    EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
  }
}

TEST_F(CredentialsTest, WebIdentityErrorsWithoutTheToken) {
  LoopbackServer server(
      400,
      "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
      "<Message>bad token WEBIDTOKEN</Message></Error></ErrorResponse>");
  CredentialSource s;
  s.kind = CredentialSource::Kind::kWebIdentity;
  s.url = server.Url();
  s.role_arn = "arn:aws:iam::123:role/job";
  s.token_file = Write("token", "WEBIDTOKEN");
  auto refused = FetchWebIdentity(s, http_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("InvalidIdentityToken"),
            std::string::npos);
  EXPECT_NE(refused.status().message().find(s.role_arn), std::string::npos);
  ExpectNoSecret(refused.status());
  s.token_file = (dir_ / "missing").string();
  auto missing = FetchWebIdentity(s, http_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AWS_WEB_IDENTITY_TOKEN_FILE=" +
                                            s.token_file),
            std::string::npos);
}

TEST_F(CredentialsTest, CredentialProcessOutputs) {
  CredentialSource s;
  s.kind = CredentialSource::Kind::kProcess;
  s.origin = "profile default";
  s.command =
      Write("good.sh",
            "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"P1\", "
            "\"SecretAccessKey\": \"SECRETKEY\", \"SessionToken\": "
            "\"SESSIONTOKEN\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
            true);
  auto good = FetchProcess(s);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->credentials.access_key_id, "P1");
  EXPECT_EQ(good->credentials.session_token, "SESSIONTOKEN");
  s.command =
      Write("bad.sh", "#!/bin/sh\necho '{\"SecretAccessKey\": \"SECRETKEY\"'\n",
            true);
  auto bad = FetchProcess(s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad JSON"), std::string::npos);
  ExpectNoSecret(bad.status());
  s.command = Write("fail.sh", "#!/bin/sh\necho SECRETKEY\nexit 3\n", true);
  auto fail = FetchProcess(s);
  ASSERT_FALSE(fail.ok());
  EXPECT_NE(fail.status().message().find("exited with status 3"),
            std::string::npos);
  EXPECT_NE(fail.status().message().find("profile default"), std::string::npos);
  ExpectNoSecret(fail.status());
  s.command = Write("v2.sh",
                    "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"P\", "
                    "\"SecretAccessKey\": \"S\"}'\n",
                    true);
  EXPECT_FALSE(FetchProcess(s).ok());
}

// The process is run again when its credentials near their expiry.
TEST_F(CredentialsTest, CredentialProcessIsRunAgainBeforeExpiry) {
  const std::string counter = (dir_ / "n").string();
  CredentialSource s;
  s.kind = CredentialSource::Kind::kProcess;
  s.command =
      Write("rotating.sh",
            "#!/bin/sh\nn=$(cat " + counter +
                " 2>/dev/null || echo 0)\n"
                "n=$((n+1)); echo $n > " +
                counter +
                "\n"
                "exp=$(date -u -d '+2 seconds' +%FT%TZ)\n"
                "echo \"{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"P$n\\\", "
                "\\\"SecretAccessKey\\\": \\\"S\\\", \\\"Expiration\\\": "
                "\\\"$exp\\\"}\"\n",
            true);
  auto p = MakeCredentialsProvider(s, {}, "");
  EXPECT_EQ(p->Get()->access_key_id, "P1");
  EXPECT_EQ(p->Get()->access_key_id, "P1");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(p->Get()->access_key_id, "P2");
}

const char kImdsDir[] = "/latest/meta-data/iam/security-credentials/";

// An instance metadata server on `server`: token, role "job", and `answer`
// for the role's credentials.
CredentialSource ImdsOn(LoopbackServer& server, const std::string& answer) {
  server.Route("/latest/api/token", 200, "IMDSTOKEN");
  server.Route(kImdsDir, 200, "job\n");
  server.Route(std::string(kImdsDir) + "job", 200, answer);
  CredentialSource s;
  s.kind = CredentialSource::Kind::kInstanceMetadata;
  s.url = server.Url();
  return s;
}

// A value of a credentials answer never reaches a message: an Expiration
// that does not parse is reported by its length, by every source.
TEST_F(CredentialsTest, UnparseableExpirationIsNotEchoedByAnySource) {
  const std::string json =
      R"({"AccessKeyId": "A", "SecretAccessKey": "SECRETKEY", )"
      R"("Token": "SESSIONTOKEN", "Expiration": "SECRETKEY"})";
  const std::string said = "Expiration is not an ISO 8601 time (9 bytes)";
  auto expect_refused = [&](const Result<TimedCredentials>& r,
                            const char* source) {
    ASSERT_FALSE(r.ok()) << source;
    EXPECT_NE(r.status().message().find(said), std::string::npos)
        << source << ": " << r.status().message();
    ExpectNoSecret(r.status());
  };

  LoopbackServer container(200, json);
  CredentialSource c;
  c.kind = CredentialSource::Kind::kContainer;
  c.url = container.Url("/creds");
  expect_refused(FetchContainer(c, http_), "container");

  LoopbackServer imds(404, "");
  expect_refused(FetchInstanceMetadata(ImdsOn(imds, json), http_), "imds");

  std::string sts = kStsAnswer;
  sts.replace(sts.find("2099-01-01T00:00:00Z"), 20, "SECRETKEY");
  LoopbackServer sts_server(200, sts);
  CredentialSource w;
  w.kind = CredentialSource::Kind::kWebIdentity;
  w.url = sts_server.Url();
  w.role_arn = "arn:aws:iam::123:role/job";
  w.token_file = Write("token", "WEBIDTOKEN");
  expect_refused(FetchWebIdentity(w, http_), "web identity");

  CredentialSource p;
  p.kind = CredentialSource::Kind::kProcess;
  p.origin = "profile default";
  p.command = Write(
      "p.sh", "#!/bin/sh\necho '{\"Version\": 1, " + json.substr(1) + "'\n",
      true);
  expect_refused(FetchProcess(p), "credential_process");

  auto parsed = ParseIso8601("SECRETKEY");
  ASSERT_FALSE(parsed.ok());
  ExpectNoSecret(parsed.status());
}

// Other text of an answer is not echoed either: a role listing that is not
// a role name, the Code field, an STS error message that is not one line.
TEST_F(CredentialsTest, AnswerFieldsAreNotEchoedInErrors) {
  LoopbackServer imds(404, "");
  CredentialSource s = ImdsOn(imds, "");
  imds.Route(kImdsDir, 200, "SECRETKEY SESSIONTOKEN\n");
  auto bad_role = FetchInstanceMetadata(s, http_);
  ASSERT_FALSE(bad_role.ok());
  EXPECT_NE(bad_role.status().message().find("not an IAM role name"),
            std::string::npos)
      << bad_role.status().message();
  ExpectNoSecret(bad_role.status());

  imds.Route(kImdsDir, 200, "job\n");
  imds.Route(std::string(kImdsDir) + "job", 200,
             R"({"Code": "SECRETKEY", "AccessKeyId": "A"})");
  auto bad_code = FetchInstanceMetadata(s, http_);
  ASSERT_FALSE(bad_code.ok());
  EXPECT_NE(bad_code.status().message().find("Code is not"), std::string::npos);
  ExpectNoSecret(bad_code.status());

  LoopbackServer sts(400,
                     "<Error><Code>SECRETKEY SESSIONTOKEN</Code>"
                     "<Message>x\nSESSIONTOKEN</Message></Error>");
  CredentialSource w;
  w.kind = CredentialSource::Kind::kWebIdentity;
  w.url = sts.Url();
  w.token_file = Write("token", "WEBIDTOKEN");
  auto refused = FetchWebIdentity(w, http_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("HTTP 400"), std::string::npos);
  ExpectNoSecret(refused.status());
}

// A credentials endpoint that sends a byte now and then never holds a
// fetch longer than the total timeout (here IMDS: 2 s, one attempt).
TEST_F(CredentialsTest, TricklingEndpointTimesOut) {
  RawServer trickle([](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::Send(fd,
                         "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")) {
      return;
    }
    // 5 bytes a second (above curl's 1 B/s stall limit) for 8 s at most,
    // so that without the total timeout the test fails rather than hangs.
    for (int i = 0; i < 40 && !stop && RawServer::Send(fd, " "); ++i) {
      std::this_thread::sleep_for(200ms);
    }
  });
  HttpClient http(CredentialHttpOptions("", /*imds=*/true));
  CredentialSource s;
  s.kind = CredentialSource::Kind::kInstanceMetadata;
  s.url = trickle.Url();
  const auto start = std::chrono::steady_clock::now();
  auto r = FetchInstanceMetadata(s, http);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_LT(took, 4s);
  EXPECT_GE(took, 1500ms);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos)
      << r.status().message();
}

// An answer larger than 64 KiB is refused, whether its Content-Length says
// so or it just keeps coming, and no more of it is read.
TEST_F(CredentialsTest, OversizedAnswerIsRefusedAtTheCap) {
  HttpClient http(CredentialHttpOptions("", /*imds=*/false));
  CredentialSource s;
  s.kind = CredentialSource::Kind::kContainer;
  const std::string said = "answer larger than 65536 bytes";

  LoopbackServer declared(200, std::string(kMaxAnswerBytes + 1, ' '));
  s.url = declared.Url("/creds");
  auto r = FetchContainer(s, http);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(said), std::string::npos)
      << r.status().message();

  std::atomic<size_t> sent{0};
  RawServer endless([&](int fd, const std::atomic<bool>& stop) {
    if (!RawServer::Send(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")) {
      return;
    }
    const std::string block(4096, ' ');
    while (!stop && sent < (64u << 20) && RawServer::Send(fd, block)) {
      sent += block.size();
    }
  });
  s.url = endless.Url("/creds");
  auto e = FetchContainer(s, http);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find(said), std::string::npos)
      << e.status().message();
  EXPECT_EQ(endless.requests(), 1);  // not retried
  EXPECT_LT(sent.load(), 16u << 20);

  // The S3 client's options keep no cap: a large answer is read whole.
  HttpClient s3_http{HttpOptions{"", 1000, 5000}};
  auto whole = s3_http.Send({"GET", declared.Url("/x"), {}, {}});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->body.size(), kMaxAnswerBytes + 1);
}

// A credential_process that hangs is killed at its deadline, with whatever
// it started; one that floods its output is killed at the cap.
TEST_F(CredentialsTest, CredentialProcessHasADeadlineAndAnOutputCap) {
  const std::string pids = (dir_ / "pids").string();
  CredentialSource s;
  s.kind = CredentialSource::Kind::kProcess;
  s.origin = "profile slow";
  s.command = Write(
      "slow.sh",
      "#!/bin/sh\nsleep 30 &\necho $$ $! > " + pids + "\nsleep 30\necho '{}'\n",
      true);
  const auto start = std::chrono::steady_clock::now();
  auto slow = FetchProcess(s, 500ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(slow.status().message().find(
                "credential_process of profile slow: did not finish within "
                "500 ms; killed"),
            std::string::npos)
      << slow.status().message();
  pid_t shell = 0, background = 0;
  std::ifstream(pids) >> shell >> background;
  ASSERT_GT(background, 0);
  // The whole group is gone (a zombie waiting for its reaper counts as gone).
  auto alive = [](pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const size_t paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() &&
           text[paren + 2] != 'Z';
  };
  // SIGKILL is delivered asynchronously and an orphan is reaped by init, so
  // on a loaded machine either may still show as running for a moment; both
  // sleep 30 s if the kill did not reach them.
  for (int i = 0; i < 250 && (alive(shell) || alive(background)); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(alive(shell));
  EXPECT_FALSE(alive(background));

  s.command = Write("flood.sh", "#!/bin/sh\nexec yes SECRETKEY\n", true);
  auto flood = FetchProcess(s, 10s);
  ASSERT_FALSE(flood.ok());
  EXPECT_NE(flood.status().message().find("output larger than 65536 bytes"),
            std::string::npos)
      << flood.status().message();
  ExpectNoSecret(flood.status());
}

// IMDS that is there but failing for now (429, 5xx, a timeout after the
// request went out) is retryable; no IMDS at all, or no role, is the
// immediate "no AWS credentials".
TEST_F(CredentialsTest, TransientMetadataFailuresAreRetryable) {
  HttpClient http(CredentialHttpOptions("", /*imds=*/true));
  LoopbackServer imds(404, "");
  CredentialSource s = ImdsOn(imds, ContainerJson("I", WallClock::now() + 1h));
  ASSERT_TRUE(FetchInstanceMetadata(s, http).ok());
  for (int status : {429, 500, 503}) {
    imds.Route("/latest/api/token", status, "");
    auto r = FetchInstanceMetadata(s, http);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable)
        << status << ": " << r.status().message();
    EXPECT_NE(r.status().message().find("HTTP " + std::to_string(status)),
              std::string::npos);
  }
  imds.Route("/latest/api/token", 200, "IMDSTOKEN");
  imds.Route(kImdsDir, 503, "");
  EXPECT_EQ(FetchInstanceMetadata(s, http).status().code(),
            StatusCode::kUnavailable);

  imds.Route(kImdsDir, 404, "");
  auto no_role = FetchInstanceMetadata(s, http);
  EXPECT_EQ(no_role.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(no_role.status().message().rfind("no AWS credentials", 0), 0u)
      << no_role.status().message();

  CredentialSource nobody = s;
  nobody.url = "http://127.0.0.1:1";
  auto refused = FetchInstanceMetadata(nobody, http);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message().rfind("no AWS credentials", 0), 0u);

  RawServer silent([](int, const std::atomic<bool>& stop) {
    for (int i = 0; i < 40 && !stop; ++i) std::this_thread::sleep_for(100ms);
  });
  CredentialSource slow = s;
  slow.url = silent.Url();
  auto timed_out = FetchInstanceMetadata(slow, http);
  EXPECT_EQ(timed_out.status().code(), StatusCode::kUnavailable)
      << timed_out.status().message();
}

TEST(Iso8601, FormsTheSourcesUse) {
  const auto z = *ParseIso8601("2030-01-02T03:04:05Z");
  EXPECT_EQ(*ParseIso8601("2030-01-02T03:04:05.123Z"), z);
  EXPECT_EQ(*ParseIso8601("2030-01-02T05:04:05+02:00"), z);
  EXPECT_FALSE(ParseIso8601("2030-01-02 03:04:05").ok());
  EXPECT_FALSE(ParseIso8601("2030-01-02T03:04:05").ok());
}

}  // namespace
}  // namespace txflow::s3
