#include "s3/s3_config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

namespace txflow::s3 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// section -> key -> value. Keys of an indented block under "s3 =" are stored
// as "s3.key", the only nested block txflow reads.
using Ini = std::map<std::string, std::map<std::string, std::string>>;

Ini ParseIni(std::istream& in) {
  Ini ini;
  std::string section, nested, line;
  bool in_section = false;
  while (std::getline(in, line)) {
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = std::string(Trim(t.substr(1, t.size() - 2)));
      in_section = true;
      nested.clear();
      ini[section];
      continue;
    }
    const size_t eq = t.find('=');
    if (!in_section || eq == std::string_view::npos) continue;
    const std::string key(Trim(t.substr(0, eq)));
    const std::string value(Trim(t.substr(eq + 1)));
    if (indented && !nested.empty()) {
      ini[section][nested + "." + key] = value;
      continue;
    }
    nested = value.empty() ? key : "";
    if (!value.empty()) ini[section][key] = value;
  }
  return ini;
}

std::optional<Ini> ReadIni(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return ParseIni(in);
}

std::optional<std::string> NonEmpty(const EnvLookup& env,
                                    std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

Result<uint64_t> ParsePositive(std::string_view name, const std::string& text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v == 0) {
    return Status::InvalidArgument(std::string(name) + "='" + text +
                                   "': expected a positive integer");
  }
  return static_cast<uint64_t>(v);
}

using ProfileLookup =
    std::function<std::optional<std::string>(const std::string&)>;
using Kind = CredentialSource::Kind;

CredentialSource Source(Kind kind, std::string origin) {
  CredentialSource s;
  s.kind = kind;
  s.origin = std::move(origin);
  return s;
}

// Each From* below fills c when its source applies and says whether it did;
// they run in the chain's order.

Result<bool> FromEnvKeys(const EnvLookup& env, S3Config& c) {
  const auto id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  const auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (id.has_value() != secret.has_value()) {
    return Status::InvalidArgument(
        std::string("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set "
                    "together; only ") +
        (id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set");
  }
  if (!id) return false;
  c.credentials = {*id, *secret,
                   NonEmpty(env, "AWS_SESSION_TOKEN").value_or("")};
  c.credential_source = Source(Kind::kStatic, "AWS_ACCESS_KEY_ID");
  return true;
}

Result<bool> FromWebIdentity(const EnvLookup& env, S3Config& c) {
  const auto file = NonEmpty(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  const auto role = NonEmpty(env, "AWS_ROLE_ARN");
  if (!file && !role) return false;
  if (!file || !role) {
    return Status::InvalidArgument(
        std::string(file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN") +
        " is set without " +
        (file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE"));
  }
  CredentialSource s =
      Source(Kind::kWebIdentity, "AWS_WEB_IDENTITY_TOKEN_FILE");
  s.token_file = *file;
  s.role_arn = *role;
  s.session_name =
      NonEmpty(env, "AWS_ROLE_SESSION_NAME")
          .value_or("txflow-" + std::to_string(std::time(nullptr)));
  s.url = NonEmpty(env, "AWS_ENDPOINT_URL_STS")
              .value_or("https://sts." + c.region + ".amazonaws.com");
  auto parsed = ParseEndpoint(s.url);
  if (!parsed.ok()) return parsed.status().WithContext("AWS_ENDPOINT_URL_STS");
  c.credential_source = std::move(s);
  return true;
}

bool FromProfile(const ProfileLookup& from_profile, const std::string& origin,
                 S3Config& c) {
  auto id = from_profile("aws_access_key_id");
  auto secret = from_profile("aws_secret_access_key");
  if (id && secret) {
    c.credentials = {*id, *secret,
                     from_profile("aws_session_token").value_or("")};
    c.credential_source = Source(Kind::kStatic, origin);
    return true;
  }
  auto command = from_profile("credential_process");
  if (!command) return false;
  c.credential_source = Source(Kind::kProcess, origin);
  c.credential_source.command = *command;
  return true;
}

// `url` with any user-info ("user:password@") before the host taken out, so
// an error may echo it.
std::string WithoutUserInfo(std::string_view url) {
  const size_t sep = url.find("://");
  const size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "[user-info removed]@" +
         std::string(url.substr(at + 1));
}

// Plain http may carry the authorization token only to this machine or the
// container agents. botocore's rule (ContainerMetadataFetcher): an IP
// address literal that is loopback (127.0.0.0/8, ::1), or one of
// 169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost. Host names other
// than localhost never pass, whatever they start with.
bool AllowedHttpHost(std::string host) {
  for (char& ch : host) {
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  if (host == "localhost") return true;
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
    in6_addr agent{};
    inet_pton(AF_INET6, "fd00:ec2::23", &agent);
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0 ||
           std::memcmp(&v6, &agent, sizeof v6) == 0;
  }
  // inet_pton takes only four decimal octets (no "127.1", no hex).
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1) return false;
  const uint32_t a = ntohl(v4.s_addr);
  return (a >> 24) == 127 || host == "169.254.170.2" ||
         host == "169.254.170.23";
}

// OK when `url` may be fetched with the container authorization token: https
// to any host, or http to an allowed host (above); never with user-info.
Status CheckContainerUrl(const std::string& url) {
  const std::string shown =
      "AWS_CONTAINER_CREDENTIALS_FULL_URI=" + WithoutUserInfo(url);
  CURLU* u = curl_url();
  if (u == nullptr) return Status::IOError(shown + ": cannot parse the URL");
  auto part = [u](CURLUPart which) -> std::optional<std::string> {
    char* text = nullptr;
    if (curl_url_get(u, which, &text, 0) != CURLUE_OK || text == nullptr) {
      return std::nullopt;
    }
    std::string value(text);
    curl_free(text);
    return value;
  };
  Status result = Status::OK();
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    result = Status::InvalidArgument(shown + ": not a URL");
  } else if (part(CURLUPART_USER) || part(CURLUPART_PASSWORD)) {
    result = Status::InvalidArgument(
        shown + ": a user or password in the URL is not allowed");
  } else {
    const std::string scheme = part(CURLUPART_SCHEME).value_or("");
    const std::string host = part(CURLUPART_HOST).value_or("");
    if (host.empty() ||
        !(scheme == "https" || (scheme == "http" && AllowedHttpHost(host)))) {
      result = Status::InvalidArgument(
          shown +
          ": expected https://, or http:// to a loopback address (127.x.x.x, "
          "[::1], localhost) or the container agent (169.254.170.2, "
          "169.254.170.23, [fd00:ec2::23])");
    }
  }
  curl_url_cleanup(u);
  return result;
}

Result<bool> FromContainer(const EnvLookup& env, S3Config& c) {
  const auto relative = NonEmpty(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const auto full = NonEmpty(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) return false;
  CredentialSource s = Source(
      Kind::kContainer, relative ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                                 : "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative) {
    if (relative->front() != '/') {
      return Status::InvalidArgument(
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: expected a path starting "
          "with /");
    }
    s.url = "http://169.254.170.2" + *relative;
  } else {
    TXFLOW_RETURN_IF_ERROR(CheckContainerUrl(*full));
    s.url = *full;
  }
  s.auth_token =
      NonEmpty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN").value_or("");
  s.auth_token_file =
      NonEmpty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").value_or("");
  c.credential_source = std::move(s);
  return true;
}

Result<bool> FromInstanceMetadata(const EnvLookup& env, S3Config& c) {
  std::string disabled =
      NonEmpty(env, "AWS_EC2_METADATA_DISABLED").value_or("");
  for (char& ch : disabled) ch = static_cast<char>(std::tolower(ch));
  if (disabled == "true") return false;
  CredentialSource s =
      Source(Kind::kInstanceMetadata, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  s.url = NonEmpty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
              .value_or("http://169.254.169.254");
  auto parsed = ParseEndpoint(s.url);
  if (!parsed.ok()) {
    return parsed.status().WithContext("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  }
  while (s.url.back() == '/') s.url.pop_back();
  c.credential_source = std::move(s);
  return true;
}

// The default chain: environment keys, web identity, the profile's keys or
// credential_process, container, instance metadata.
Status ResolveCredentials(const EnvLookup& env,
                          const ProfileLookup& from_profile,
                          const std::string& profile_origin, S3Config& c) {
  TXFLOW_ASSIGN_OR_RETURN(bool found, FromEnvKeys(env, c));
  if (found) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(found, FromWebIdentity(env, c));
  if (found || FromProfile(from_profile, profile_origin, c)) {
    return Status::OK();
  }
  TXFLOW_ASSIGN_OR_RETURN(found, FromContainer(env, c));
  if (found) return Status::OK();
  TXFLOW_ASSIGN_OR_RETURN(found, FromInstanceMetadata(env, c));
  if (found) return Status::OK();
  return Status::PermissionDenied(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
      "AWS_PROFILE with a profile in " +
      profile_origin +
      ", a web identity or container role, or allow the instance metadata "
      "service (AWS_EC2_METADATA_DISABLED is true)");
}

}  // namespace

std::string Endpoint::Authority() const {
  const bool default_port = port == 0 || (scheme == "http" && port == 80) ||
                            (scheme == "https" && port == 443);
  return default_port ? host : host + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("S3 endpoint '" + std::string(url) +
                                   "': " + std::string(why));
  };
  Endpoint e;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("expected http(s)://host");
  e.scheme = std::string(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") {
    return bad("scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad("expected no path, query or user");
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      rest.find(']') == std::string_view::npos) {
    const std::string port(rest.substr(colon + 1));
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p <= 0 || p > 65535) {
      return bad("bad port");
    }
    e.port = static_cast<int>(p);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("no host");
  e.host = std::string(rest);
  return e;
}

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<S3Config> LoadS3Config(const EnvLookup& env, std::string_view bucket) {
  S3Config c;
  const std::string home = NonEmpty(env, "HOME").value_or("");
  const auto named_profile = NonEmpty(env, "AWS_PROFILE");
  const std::string profile = named_profile.value_or("default");
  const std::string creds_path = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE")
                                     .value_or(home + "/.aws/credentials");
  const std::string config_path =
      NonEmpty(env, "AWS_CONFIG_FILE").value_or(home + "/.aws/config");

  const std::optional<Ini> creds_ini = ReadIni(creds_path);
  const std::optional<Ini> config_ini = ReadIni(config_path);
  const std::map<std::string, std::string>* creds_section = nullptr;
  const std::map<std::string, std::string>* config_section = nullptr;
  if (creds_ini) {
    auto it = creds_ini->find(profile);
    if (it != creds_ini->end()) creds_section = &it->second;
  }
  if (config_ini) {
    auto it = config_ini->find(profile == "default" ? "default"
                                                    : "profile " + profile);
    if (it != config_ini->end()) config_section = &it->second;
  }
  if (named_profile && creds_section == nullptr && config_section == nullptr) {
    return Status::InvalidArgument("AWS_PROFILE=" + profile +
                                   ": no such profile in " + creds_path +
                                   " or " + config_path);
  }
  auto from_profile =
      [&](const std::string& key) -> std::optional<std::string> {
    for (auto* s : {creds_section, config_section}) {
      if (s == nullptr) continue;
      auto it = s->find(key);
      if (it != s->end() && !it->second.empty()) return it->second;
    }
    return std::nullopt;
  };

  if (auto r = NonEmpty(env, "AWS_REGION")) {
    c.region = *r;
  } else if (auto r2 = NonEmpty(env, "AWS_DEFAULT_REGION")) {
    c.region = *r2;
  } else if (auto r3 = from_profile("region")) {
    c.region = *r3;
  }

  TXFLOW_RETURN_IF_ERROR(ResolveCredentials(
      env, from_profile,
      "profile " + profile + " (" + creds_path + ", " + config_path + ")", c));

  std::optional<std::string> endpoint = NonEmpty(env, "AWS_ENDPOINT_URL_S3");
  std::string endpoint_source = "AWS_ENDPOINT_URL_S3";
  if (!endpoint) {
    endpoint = NonEmpty(env, "AWS_ENDPOINT_URL");
    endpoint_source = "AWS_ENDPOINT_URL";
  }
  if (!endpoint) {
    endpoint = from_profile("endpoint_url");
    endpoint_source = "endpoint_url in " + config_path;
  }
  const bool custom = endpoint.has_value();
  if (!custom) endpoint = "https://s3." + c.region + ".amazonaws.com";
  auto parsed = ParseEndpoint(*endpoint);
  if (!parsed.ok()) return parsed.status().WithContext(endpoint_source);
  c.endpoint = std::move(parsed).value();

  c.path_style = custom || bucket.find('.') != std::string_view::npos;
  std::optional<std::string> style =
      NonEmpty(env, "TXFLOW_S3_ADDRESSING_STYLE");
  if (!style) style = from_profile("s3.addressing_style");
  if (style) {
    if (*style == "path") {
      c.path_style = true;
    } else if (*style == "virtual") {
      c.path_style = false;
    } else if (*style != "auto") {
      return Status::InvalidArgument("S3 addressing style '" + *style +
                                     "': expected path, virtual or auto");
    }
  }
  c.ca_bundle = NonEmpty(env, "AWS_CA_BUNDLE").value_or("");

  if (auto v = NonEmpty(env, "TXFLOW_S3_MAX_ATTEMPTS")) {
    TXFLOW_ASSIGN_OR_RETURN(uint64_t n,
                            ParsePositive("TXFLOW_S3_MAX_ATTEMPTS", *v));
    c.max_attempts = static_cast<int>(std::min<uint64_t>(n, 100));
  }
  if (auto v = NonEmpty(env, "TXFLOW_S3_MULTIPART_THRESHOLD")) {
    TXFLOW_ASSIGN_OR_RETURN(c.multipart_threshold,
                            ParsePositive("TXFLOW_S3_MULTIPART_THRESHOLD", *v));
  }
  if (auto v = NonEmpty(env, "TXFLOW_S3_PART_SIZE")) {
    TXFLOW_ASSIGN_OR_RETURN(c.part_size,
                            ParsePositive("TXFLOW_S3_PART_SIZE", *v));
    if (c.part_size < (5u << 20)) {
      return Status::InvalidArgument("TXFLOW_S3_PART_SIZE=" + *v +
                                     ": S3 parts are at least 5 MiB");
    }
  }
  return c;
}

}  // namespace txflow::s3
