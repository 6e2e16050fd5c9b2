#include "obs/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace txflow::obs {
namespace {

// Sends `request` raw to 127.0.0.1:port and returns the whole answer.
std::string Exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, n);
  ::close(fd);
  return out;
}

class ObsHttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Handle("/metrics", [] {
      return HttpReply{200, "text/plain", "m"};
    });
    ASSERT_TRUE(server_.Start("127.0.0.1:0").ok());
    ASSERT_GT(server_.port(), 0);
  }
  HttpServer server_;
};

TEST_F(ObsHttpServer, ServesARegisteredPathAndCloses) {
  const std::string r =
      Exchange(server_.port(), "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 1\r\n"), std::string::npos);
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 1), "m");
}

TEST_F(ObsHttpServer, UnknownPathIs404AndOtherMethodsAre405) {
  EXPECT_EQ(Exchange(server_.port(), "GET /x HTTP/1.1\r\n\r\n").substr(0, 12),
            "HTTP/1.1 404");
  const std::string r =
      Exchange(server_.port(), "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 405");
  EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST_F(ObsHttpServer, OversizedRequestIs431) {
  const std::string big = "GET /metrics HTTP/1.1\r\nX: " +
                          std::string(HttpServer::kMaxRequestBytes, 'a');
  EXPECT_EQ(Exchange(server_.port(), big).substr(0, 12), "HTTP/1.1 431");
}

TEST_F(ObsHttpServer, SlowClientIsDroppedAndTheServerServesTheNext) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Exchange(server_.port(), "GET /metr").substr(0, 12),
            "HTTP/1.1 408");
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            HttpServer::kRequestTimeout);
  EXPECT_EQ(
      Exchange(server_.port(), "GET /metrics HTTP/1.0\r\n\r\n").substr(0, 12),
      "HTTP/1.1 200");
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

TEST_F(ObsHttpServer, TwentyTricklingClientsNeverDelayAScrape) {
  // Each sends its request a byte at a time and never finishes it; one
  // connection at a time would make a scrape wait up to 20 x 2 s.
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) slow.push_back(Connect(server_.port()));
  const std::string request = "GET /metrics HTTP/1.1\r\nX: ";
  const auto start = std::chrono::steady_clock::now();
  for (size_t byte = 0; byte < request.size(); ++byte) {
    for (int fd : slow) ::send(fd, &request[byte], 1, MSG_NOSIGNAL);
    const auto t = std::chrono::steady_clock::now();
    EXPECT_EQ(
        Exchange(server_.port(), "GET /metrics HTTP/1.0\r\n\r\n").substr(0, 12),
        "HTTP/1.1 200");
    EXPECT_LT(std::chrono::steady_clock::now() - t,
              std::chrono::milliseconds(500));
    if (std::chrono::steady_clock::now() - start >
        HttpServer::kRequestTimeout) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int fd : slow) ::close(fd);
}

TEST_F(ObsHttpServer, BeyondTheConnectionLimitTheOldestIsClosed) {
  std::vector<int> idle;
  for (size_t i = 0; i < HttpServer::kMaxConnections + 1; ++i) {
    idle.push_back(Connect(server_.port()));
  }
  // The first is closed without an answer, long before its deadline.
  char c;
  pollfd p{idle[0], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(::recv(idle[0], &c, 1, 0), 0);
  EXPECT_EQ(
      Exchange(server_.port(), "GET /metrics HTTP/1.0\r\n\r\n").substr(0, 12),
      "HTTP/1.1 200");
  for (int fd : idle) ::close(fd);
}

TEST(ObsHttpServerAddr, MalformedAddressesAreRefused) {
  std::string host;
  int port = 0;
  EXPECT_FALSE(SplitHostPort("9100", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("h:99999", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":9100", &host, &port).ok());
  ASSERT_TRUE(SplitHostPort("[::1]:9100", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9100);
}

}  // namespace
}  // namespace txflow::obs
