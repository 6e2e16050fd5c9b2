// Where the S3 client's credentials come from, and keeping them fresh.
//
// S3Client asks its CredentialsProvider for the current credentials before
// signing each attempt. Static keys (environment, profile files) never
// change; every other source (web identity, container, instance metadata,
// credential_process; see credential_sources.h) hands out temporary
// credentials with an expiration, and RefreshingCredentialsProvider fetches
// new ones before they run out:
//
//   refresh at  expiration - min(5 min, half the lifetime seen at the fetch)
//
// (so 6-hour role credentials are renewed 5 minutes before they end, and a
// 20-second test credential after 10 seconds). Until then every Get() is a
// copy under a mutex. Between the refresh time and the expiration one caller
// refetches while the others keep signing with the cached credentials; a
// failed refresh is retried at most once a second and the cached credentials
// are used while they last. Once they have expired (or were rejected, see
// Invalidate) every caller waits for one fetch, and a failure is returned
// (the source's own error until a fetch has succeeded once, Unavailable
// after). A failed fetch is not repeated within a second: until then a
// caller with nothing usable gets that fetch's error without fetching, so N
// callers of a failing source cause at most one fetch a second, before the
// first success as after it. (Credentials the server rejects are fetched
// again at once: each rejection of the credentials a successful fetch gave
// is worth one fetch.) A new access key id
// is logged once (LogInfo), with its expiry.
//
// Thread-safety: every method may be called from any thread at any time.
// Secrets: no message of any Status returned here, and no log line, contains
// a secret key, a session token or any other token; the access key id and
// the source's description (an endpoint, a variable, a file) are fine.
#ifndef TXFLOW_S3_CREDENTIALS_PROVIDER_H_
#define TXFLOW_S3_CREDENTIALS_PROVIDER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "s3/sigv4.h"
#include "txflow/status.h"

namespace txflow::s3 {

using WallClock = std::chrono::system_clock;

struct TimedCredentials {
  Credentials credentials;
  // nullopt: valid until the source says otherwise (a credential_process
  // answer without "Expiration").
  std::optional<WallClock::time_point> expiration;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  // The credentials to sign with now. Fails (never with a secret in the
  // message) when none can be had: the source's error for the first fetch,
  // Unavailable when cached credentials expired and the refresh failed.
  virtual Result<Credentials> Get() = 0;

  // The server refused `rejected` as unknown or expired (403
  // InvalidAccessKeyId, ExpiredToken, ...). Returns true when asking again
  // may help: the next Get() fetches afresh unless newer credentials than
  // `rejected` are already cached. Static credentials return false.
  virtual bool Invalidate(const Credentials& rejected) = 0;

  // Where the credentials come from, for messages ("instance metadata at
  // http://169.254.169.254"); never a secret.
  virtual const std::string& Source() const = 0;
};

// Fixed credentials (environment variables, profile keys).
std::shared_ptr<CredentialsProvider> StaticCredentialsProvider(
    Credentials credentials, std::string source);

// The refresh time of the rule above for credentials fetched at `fetched`.
WallClock::time_point RefreshTime(WallClock::time_point fetched,
                                  WallClock::time_point expiration);

// Caches what `fetch` returns and refreshes it by the rule above. `fetch` is
// called by one thread at a time; its errors name the source. `clock` is
// injectable for tests.
class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  using Fetcher = std::function<Result<TimedCredentials>()>;
  using Clock = std::function<WallClock::time_point()>;

  RefreshingCredentialsProvider(std::string source, Fetcher fetch,
                                Clock clock = WallClock::now);

  Result<Credentials> Get() override;
  bool Invalidate(const Credentials& rejected) override;
  const std::string& Source() const override { return source_; }

  // Fetches so far (successful or not), for tests.
  int fetches() const;

 private:
  // The cached credentials if they may be used at `now` without a fetch.
  std::optional<Credentials> Fresh(WallClock::time_point now) const;
  // The cached credentials if they have not expired (and were not rejected).
  std::optional<Credentials> Usable(WallClock::time_point now) const;
  // Within a second of a failed fetch: its error, which a caller that would
  // have to fetch gets instead.
  std::optional<Status> Throttled(WallClock::time_point now) const;
  // One fetch; on success the cache holds its answer. REQUIRES: fetch_mu_.
  Result<Credentials> Refresh();

  const std::string source_;
  const Fetcher fetch_;
  const Clock clock_;
  std::mutex fetch_mu_;  // one fetch at a time; never held with mu_ waiting
  mutable std::mutex mu_;
  std::optional<TimedCredentials> cached_;  // guarded by mu_
  WallClock::time_point refresh_at_;        // guarded by mu_
  WallClock::time_point next_attempt_;      // guarded by mu_
  std::optional<Status> last_error_;        // of the last fetch; mu_
  bool rejected_ = false;                   // guarded by mu_
  int fetches_ = 0;                         // guarded by mu_
};

}  // namespace txflow::s3

#endif  // TXFLOW_S3_CREDENTIALS_PROVIDER_H_
