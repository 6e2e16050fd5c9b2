#include "s3/credentials_provider.h"

#include <algorithm>
#include <ctime>

#include "common/log.h"

namespace txflow::s3 {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// A failed fetch is not followed by another sooner than this.
constexpr seconds kMinRefreshInterval{1};

class StaticProvider final : public CredentialsProvider {
 public:
  StaticProvider(Credentials c, std::string source)
      : credentials_(std::move(c)), source_(std::move(source)) {}
  Result<Credentials> Get() override { return credentials_; }
  bool Invalidate(const Credentials&) override { return false; }
  const std::string& Source() const override { return source_; }

 private:
  const Credentials credentials_;
  const std::string source_;
};

std::string Utc(WallClock::time_point t) {
  const std::time_t s = WallClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool Same(const Credentials& a, const Credentials& b) {
  return a.access_key_id == b.access_key_id &&
         a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token;
}

}  // namespace

std::shared_ptr<CredentialsProvider> StaticCredentialsProvider(
    Credentials credentials, std::string source) {
  return std::make_shared<StaticProvider>(std::move(credentials),
                                          std::move(source));
}

WallClock::time_point RefreshTime(WallClock::time_point fetched,
                                  WallClock::time_point expiration) {
  const auto lifetime = std::max(expiration - fetched, WallClock::duration{0});
  const auto window = std::min<WallClock::duration>(minutes(5), lifetime / 2);
  return std::max(expiration - window, fetched + kMinRefreshInterval);
}

RefreshingCredentialsProvider::RefreshingCredentialsProvider(std::string source,
                                                             Fetcher fetch,
                                                             Clock clock)
    : source_(std::move(source)),
      fetch_(std::move(fetch)),
      clock_(std::move(clock)) {}

int RefreshingCredentialsProvider::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

std::optional<Credentials> RefreshingCredentialsProvider::Fresh(
    WallClock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_ || rejected_ || now >= refresh_at_) return std::nullopt;
  // refresh_at_ may lie past a short expiration (it is a second after the
  // fetch at the earliest): expired credentials are never fresh.
  if (cached_->expiration && now >= *cached_->expiration) return std::nullopt;
  return cached_->credentials;
}

std::optional<Status> RefreshingCredentialsProvider::Throttled(
    WallClock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!last_error_ || now >= next_attempt_) return std::nullopt;
  return *last_error_;
}

std::optional<Credentials> RefreshingCredentialsProvider::Usable(
    WallClock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_ || rejected_) return std::nullopt;
  if (cached_->expiration && now >= *cached_->expiration) return std::nullopt;
  return cached_->credentials;
}

Result<Credentials> RefreshingCredentialsProvider::Get() {
  if (auto c = Fresh(clock_())) return *c;
  if (auto c = Usable(clock_())) {
    // Inside the refresh window: one caller refreshes, the others sign with
    // what they have; a failed refresh keeps the cached credentials.
    std::unique_lock<std::mutex> fetching(fetch_mu_, std::try_to_lock);
    if (!fetching.owns_lock()) return *c;
    if (auto again = Fresh(clock_())) return *again;
    if (Throttled(clock_())) return *c;
    auto refreshed = Refresh();
    if (refreshed.ok()) return refreshed;
    if (auto still = Usable(clock_())) return *still;
    return refreshed.status();
  }
  // Nothing usable: everybody waits for one fetch.
  // Within a second of the last fetch they all get its outcome instead.
  std::lock_guard<std::mutex> fetching(fetch_mu_);
  const WallClock::time_point now = clock_();
  if (auto c = Fresh(now)) return *c;
  if (auto error = Throttled(now)) return *error;
  return Refresh();
}

Result<Credentials> RefreshingCredentialsProvider::Refresh() {
  auto fetched = fetch_();
  const WallClock::time_point now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  ++fetches_;
  // Until a fetch has succeeded, the source's own error stands (a fatal one
  // at start is one clear line); later failures are retryable.
  const bool first = !cached_.has_value();
  if (fetched.ok() && fetched->expiration && *fetched->expiration <= now) {
    fetched = Status::Unavailable(source_ +
                                  ": the credentials served (access key id " +
                                  fetched->credentials.access_key_id +
                                  ") expired at " + Utc(*fetched->expiration));
  }
  if (!fetched.ok()) {
    next_attempt_ = now + kMinRefreshInterval;
    last_error_ = first ? fetched.status()
                        : Status::Unavailable(
                              fetched.status().message() +
                              " (refreshing expired or rejected credentials)");
    return *last_error_;
  }
  last_error_.reset();
  const bool rotated = !first && cached_->credentials.access_key_id !=
                                     fetched->credentials.access_key_id;
  cached_ = std::move(fetched).value();
  rejected_ = false;
  refresh_at_ = cached_->expiration ? RefreshTime(now, *cached_->expiration)
                                    : WallClock::time_point::max();
  if (rotated) {
    LogInfo("s3 credentials rotated by " + source_ + ": access key id " +
            cached_->credentials.access_key_id +
            (cached_->expiration ? ", expires " + Utc(*cached_->expiration)
                                 : std::string()));
  }
  return cached_->credentials;
}

bool RefreshingCredentialsProvider::Invalidate(const Credentials& rejected) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && Same(cached_->credentials, rejected)) rejected_ = true;
  return true;
}

}  // namespace txflow::s3
