#include "s3/credential_sources.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "s3/json.h"
#include "s3/xml.h"

namespace txflow::s3 {
namespace {

using Json = std::map<std::string, std::string>;

constexpr int kAttempts = 3;  // STS and the container endpoint

std::string TrimSpace(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// `message` with every occurrence of each non-empty secret replaced: a last
// guard for text that comes from a server or a process.
std::string Scrub(std::string message,
                  std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at)) {
      message.replace(at, secret.size(), "[redacted]");
    }
  }
  return message;
}

// A file's contents without surrounding white space; the message names the
// variable and the path, never the contents.
Result<std::string> ReadTokenFile(const std::string& path,
                                  std::string_view variable) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  std::string token = TrimSpace(text.str());
  if (!in || token.empty()) {
    return Status::PermissionDenied(std::string(variable) + "=" + path +
                                    ": cannot read a token from the file");
  }
  return token;
}

// `text` if it is at most `max` printable ASCII characters (letters, digits
// and '.' only when `word`), else "".
std::string Printable(const std::optional<std::string>& text, size_t max,
                      bool word) {
  if (!text || text->size() > max) return "";
  for (unsigned char c : *text) {
    const bool ok =
        word ? (std::isalnum(c) || c == '.') : (c >= 0x20 && c < 0x7f);
    if (!ok) return "";
  }
  return *text;
}

bool HasLineBreak(std::string_view v) {
  return v.find_first_of("\r\n") != std::string_view::npos;
}

// Sends with up to `attempts` attempts, backing off on transport errors and
// 5xx answers; the last answer or error is returned.
Result<HttpResponse> SendRetrying(HttpClient& http, const HttpRequest& request,
                                  int attempts) {
  Result<HttpResponse> last = Status::Unavailable("not sent");
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << i));
    last = http.Send(request);
    if (last.ok() && last->status < 500) return last;
    if (!last.ok() && last.status().code() != StatusCode::kUnavailable) {
      return last;
    }
  }
  return last;
}

Status HttpFailure(std::string_view what, long status, std::string detail) {
  std::string m = std::string(what) + ": HTTP " + std::to_string(status);
  if (!detail.empty()) m += " " + detail;
  if (status >= 500 || status == 429) return Status::Unavailable(m);
  return Status::PermissionDenied(m);
}

// The answer's Expiration did not parse; its length is all that is said.
Status ExpirationError(std::string_view what, std::string_view expiration) {
  return Status::InvalidArgument(std::string(what) +
                                 ": Expiration is not an ISO 8601 time (" +
                                 std::to_string(expiration.size()) + " bytes)");
}

Result<TimedCredentials> FromJson(const Json& json, std::string_view what,
                                  std::string_view token_key) {
  auto field = [&](std::string_view key) -> std::string {
    auto it = json.find(std::string(key));
    return it == json.end() ? std::string() : it->second;
  };
  TimedCredentials t;
  t.credentials = {field("AccessKeyId"), field("SecretAccessKey"),
                   field(token_key)};
  if (t.credentials.access_key_id.empty() ||
      t.credentials.secret_access_key.empty()) {
    return Status::PermissionDenied(
        std::string(what) + ": answer lacks AccessKeyId or SecretAccessKey");
  }
  if (const std::string e = field("Expiration"); !e.empty()) {
    auto when = ParseIso8601(e);
    if (!when.ok()) return ExpirationError(what, e);
    t.expiration = *when;
  }
  return t;
}

Result<Json> ParseAnswer(std::string_view body, std::string_view what) {
  auto json = ParseFlatJsonObject(body);
  if (!json.ok()) return json.status().WithContext(what);
  return json;
}

// "https://sts.example.com/" -> "https://sts.example.com".
std::string Base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string FormEncode(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += "&";
    out += UriEncode(k, false) + "=" + UriEncode(v, false);
  }
  return out;
}

Result<std::string> ImdsToken(HttpClient& http, const std::string& base,
                              std::string_view what, bool& reached) {
  HttpRequest put{"PUT",
                  base + "/latest/api/token",
                  {"X-aws-ec2-metadata-token-ttl-seconds: 21600"},
                  {}};
  TXFLOW_ASSIGN_OR_RETURN(HttpResponse r, http.Send(put, &reached));
  if (r.status != 200 || r.body.empty()) {
    return HttpFailure(std::string(what) + ": PUT /latest/api/token", r.status,
                       "");
  }
  return TrimSpace(r.body);
}

Result<std::string> ImdsGet(HttpClient& http, const std::string& base,
                            const std::string& path, const std::string& token,
                            std::string_view what) {
  HttpRequest get{
      "GET", base + path, {"X-aws-ec2-metadata-token: " + token}, {}};
  TXFLOW_ASSIGN_OR_RETURN(HttpResponse r, http.Send(get));
  if (r.status != 200) {
    return HttpFailure(std::string(what) + ": GET " + path, r.status, "");
  }
  return std::move(r.body);
}

// `reached`: whether the IMDS endpoint got the first request.
Result<TimedCredentials> ImdsFetch(const CredentialSource& s, HttpClient& http,
                                   bool& reached) {
  const std::string base = Base(s.url);
  const std::string what = "instance metadata at " + base;
  const std::string dir = "/latest/meta-data/iam/security-credentials/";
  TXFLOW_ASSIGN_OR_RETURN(std::string token,
                          ImdsToken(http, base, what, reached));
  TXFLOW_ASSIGN_OR_RETURN(std::string roles,
                          ImdsGet(http, base, dir, token, what));
  const std::string role = TrimSpace(roles.substr(0, roles.find('\n')));
  if (role.empty()) {
    return Status::PermissionDenied(what + ": no instance profile role");
  }
  // The role name goes into the next path and into messages: only an IAM
  // role name ([A-Za-z0-9+=,.@_-], at most 64) is either.
  if (role.size() > 64 ||
      role.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                             "xyz0123456789+=,.@_-") != std::string::npos) {
    return Status::PermissionDenied(
        what + ": the role listed is not an IAM role name (" +
        std::to_string(role.size()) + " bytes)");
  }
  TXFLOW_ASSIGN_OR_RETURN(std::string body,
                          ImdsGet(http, base, dir + role, token, what));
  const std::string role_what = what + " (role " + role + ")";
  TXFLOW_ASSIGN_OR_RETURN(Json json, ParseAnswer(body, role_what));
  if (json.count("Code") && json.at("Code") != "Success") {
    // A field of the answer: not echoed.
    return Status::PermissionDenied(role_what + ": Code is not \"Success\"");
  }
  return FromJson(json, role_what, "Token");
}

Result<std::string> ContainerAuthorization(const CredentialSource& s) {
  std::string value = s.auth_token;
  if (!s.auth_token_file.empty()) {
    TXFLOW_ASSIGN_OR_RETURN(
        value, ReadTokenFile(s.auth_token_file,
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
  }
  if (HasLineBreak(value)) {
    return Status::InvalidArgument(
        std::string(s.auth_token_file.empty()
                        ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                        : "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") +
        ": the token has a line break");
  }
  return value;
}

}  // namespace

HttpOptions CredentialHttpOptions(const std::string& ca_bundle, bool imds) {
  HttpOptions o;
  o.ca_bundle = ca_bundle;
  o.connect_timeout_ms = imds ? 1000 : 5000;
  o.stall_timeout_ms = imds ? 2000 : 5000;
  o.total_timeout_ms = imds ? kImdsStepTimeoutMs : kFetchTimeoutMs;
  o.max_body_bytes = kMaxAnswerBytes;
  return o;
}

Result<WallClock::time_point> ParseIso8601(std::string_view text) {
  const std::string t(text);
  std::tm tm{};
  const char* rest = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  // The text comes from a credentials answer: its length only, never it.
  auto bad = [&] {
    return Status::InvalidArgument("not an ISO 8601 time (" +
                                   std::to_string(t.size()) +
                                   " bytes): expected YYYY-MM-DDTHH:MM:SSZ");
  };
  if (rest == nullptr) return bad();
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  long offset = 0;
  if ((*rest == '+' || *rest == '-') && std::strlen(rest) == 6 &&
      rest[3] == ':') {
    const long h = std::strtol(std::string(rest + 1, 2).c_str(), nullptr, 10);
    const long m = std::strtol(std::string(rest + 4, 2).c_str(), nullptr, 10);
    offset = (*rest == '+' ? 1 : -1) * (h * 3600 + m * 60);
  } else if (std::string_view(rest) != "Z") {
    return bad();
  }
  return WallClock::from_time_t(timegm(&tm) - offset);
}

Result<TimedCredentials> FetchWebIdentity(const CredentialSource& s,
                                          HttpClient& http) {
  const std::string what =
      "web identity (AWS_ROLE_ARN=" + s.role_arn + ", STS at " + s.url + ")";
  TXFLOW_ASSIGN_OR_RETURN(
      std::string token,
      ReadTokenFile(s.token_file, "AWS_WEB_IDENTITY_TOKEN_FILE"));
  const std::string body = FormEncode({{"Action", "AssumeRoleWithWebIdentity"},
                                       {"Version", "2011-06-15"},
                                       {"RoleArn", s.role_arn},
                                       {"RoleSessionName", s.session_name},
                                       {"WebIdentityToken", token}});
  HttpRequest post{
      "POST",
      Base(s.url) + "/",
      {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
       "Accept: application/xml"},
      body};
  auto sent = SendRetrying(http, post, kAttempts);
  if (!sent.ok()) return sent.status().WithContext(what);
  if (sent->status != 200) {
    // STS's error code and message are shown, bounded to what an STS error
    // looks like (a code word, a line of printable text), token removed.
    const std::string code = Printable(XmlText(sent->body, "Code"), 64, true);
    const std::string message =
        Printable(XmlText(sent->body, "Message"), 256, false);
    Status st = HttpFailure(
        what, sent->status,
        Scrub(code + (message.empty() ? "" : ": " + message), {token}));
    if (code == "IDPCommunicationError" || code == "Throttling") {
      return Status::Unavailable(st.message());
    }
    return st;
  }
  TimedCredentials t;
  t.credentials = {XmlText(sent->body, "AccessKeyId").value_or(""),
                   XmlText(sent->body, "SecretAccessKey").value_or(""),
                   XmlText(sent->body, "SessionToken").value_or("")};
  const std::string expiration = XmlText(sent->body, "Expiration").value_or("");
  if (t.credentials.access_key_id.empty() ||
      t.credentials.secret_access_key.empty() || expiration.empty()) {
    return Status::PermissionDenied(what + ": answer lacks the credentials");
  }
  auto when = ParseIso8601(expiration);
  if (!when.ok()) return ExpirationError(what, expiration);
  t.expiration = *when;
  return t;
}

Result<TimedCredentials> FetchContainer(const CredentialSource& s,
                                        HttpClient& http) {
  const std::string what = "container credentials at " + s.url;
  TXFLOW_ASSIGN_OR_RETURN(std::string authorization, ContainerAuthorization(s));
  HttpRequest get{"GET", s.url, {"Accept: application/json"}, {}};
  if (!authorization.empty()) {
    get.headers.push_back("Authorization: " + authorization);
  }
  auto sent = SendRetrying(http, get, kAttempts);
  if (!sent.ok()) return sent.status().WithContext(what);
  if (sent->status != 200) return HttpFailure(what, sent->status, "");
  TXFLOW_ASSIGN_OR_RETURN(Json json, ParseAnswer(sent->body, what));
  return FromJson(json, what, "Token");
}

Result<TimedCredentials> FetchInstanceMetadata(const CredentialSource& s,
                                               HttpClient& http) {
  bool reached = false;
  auto fetched = ImdsFetch(s, http, reached);
  if (fetched.ok()) return fetched;
  // An endpoint that answered but failed for now (429, 5xx, a timeout after
  // the request went out) is retried by the loops like any other source.
  if (reached && fetched.status().code() == StatusCode::kUnavailable) {
    return fetched.status();
  }
  // Nobody there (refused, unreachable, connect timeout) or a definite no
  // (404 on the role list, no role): the implicit last resort says so.
  return Status::PermissionDenied(
      "no AWS credentials: none in the environment or a profile, and " +
      fetched.status().message());
}

Result<TimedCredentials> FetchProcess(const CredentialSource& s,
                                      std::chrono::milliseconds deadline) {
  const std::string what = "credential_process of " + s.origin;
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return Status::IOError(what +
                           ": cannot make a pipe: " + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Status::PermissionDenied(what + ": cannot start it");
  }
  if (pid == 0) {
    // Its own process group, so that a deadline kills whatever it started.
    ::setpgid(0, 0);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::execl("/bin/sh", "sh", "-c", s.command.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before any kill
  ::close(out_pipe[1]);
  const auto end = std::chrono::steady_clock::now() + deadline;
  auto left_ms = [&] {
    return std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(
               end - std::chrono::steady_clock::now())
               .count());
  };
  const std::string late =
      "did not finish within " + std::to_string(deadline.count()) + " ms";
  std::string out;
  std::string failure;  // why it was killed
  char buf[4096];
  for (;;) {
    pollfd p{out_pipe[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left_ms()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      failure = late;
      break;
    }
    const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output
    if (out.size() + static_cast<size_t>(n) > kMaxAnswerBytes) {
      failure =
          "output larger than " + std::to_string(kMaxAnswerBytes) + " bytes";
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  int status = 0;
  pid_t waited = 0;
  while (failure.empty() && (waited = ::waitpid(pid, &status, WNOHANG)) == 0) {
    if (left_ms() == 0) {
      failure = late;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!failure.empty()) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Status::Unavailable(what + ": " + failure + "; killed");
  }
  if (waited < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::PermissionDenied(
        what + ": " +
        (waited > 0 && WIFEXITED(status)
             ? "exited with status " + std::to_string(WEXITSTATUS(status))
             : std::string("did not exit normally")));
  }
  TXFLOW_ASSIGN_OR_RETURN(Json json, ParseAnswer(out, what));
  if (!json.count("Version") || json.at("Version") != "1") {
    return Status::PermissionDenied(what + ": expected \"Version\": 1");
  }
  return FromJson(json, what, "SessionToken");
}

std::shared_ptr<CredentialsProvider> MakeCredentialsProvider(
    const CredentialSource& source, const Credentials& credentials,
    const std::string& ca_bundle) {
  using Kind = CredentialSource::Kind;
  if (source.kind == Kind::kStatic) {
    return StaticCredentialsProvider(credentials, source.origin);
  }
  const bool imds = source.kind == Kind::kInstanceMetadata;
  // Shared by the copies of the fetcher (std::function copies it).
  auto http =
      std::make_shared<HttpClient>(CredentialHttpOptions(ca_bundle, imds));
  RefreshingCredentialsProvider::Fetcher fetch;
  std::string where;
  switch (source.kind) {
    case Kind::kWebIdentity:
      fetch = [source, http] { return FetchWebIdentity(source, *http); };
      where = "web identity (STS at " + source.url + ")";
      break;
    case Kind::kContainer:
      fetch = [source, http] { return FetchContainer(source, *http); };
      where = "container credentials at " + source.url;
      break;
    case Kind::kInstanceMetadata:
      fetch = [source, http] { return FetchInstanceMetadata(source, *http); };
      where = "instance metadata at " + source.url;
      break;
    default:
      fetch = [source] { return FetchProcess(source); };
      where = "credential_process of " + source.origin;
      break;
  }
  return std::make_shared<RefreshingCredentialsProvider>(where, fetch);
}

}  // namespace txflow::s3
