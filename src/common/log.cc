#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/utf8.h"

namespace txflow {
namespace {

std::atomic<bool> g_quiet{false};
std::atomic<LogFormat> g_format{LogFormat::kHuman};

// Guards the status line and orders writes to stderr, so a log line from one
// thread cannot land between another thread's erase and redraw.
std::mutex g_mu;
std::string g_status;  // the status line on screen, empty when none

constexpr std::string_view kEraseLine = "\r\x1b[K";

void WriteAll(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n <= 0) return;  // stderr gone: logging must never stop the pipeline
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Splits "x: msg" into mechanism "x" and "msg"; no known prefix: "".
std::string_view TakeMechanism(std::string_view* message) {
  for (std::string_view m : {"x", "y", "run"}) {
    if (message->size() > m.size() + 1 && message->substr(0, m.size()) == m &&
        message->substr(m.size(), 2) == ": ") {
      message->remove_prefix(m.size() + 2);
      return m;
    }
  }
  return {};
}

std::string FormatLine(std::string_view level, std::string_view message,
                       bool human_timestamp) {
  const std::string ts = FormatUtcMs(SystemClock::Get()->NowMs());
  if (g_format == LogFormat::kHuman) {
    std::string line = human_timestamp ? ts + " " : "";
    line.append(message);
    line += '\n';
    return line;
  }
  const std::string_view mechanism = TakeMechanism(&message);
  std::string line = "{\"ts\":\"" + ts + "\",\"level\":\"";
  line += level;
  line += '"';
  if (!mechanism.empty()) {
    line += ",\"mechanism\":\"";
    line += mechanism;
    line += '"';
  }
  line += ",\"msg\":" + JsonString(message) + "}\n";
  return line;
}

// Erases the status line, writes `line`, redraws the status line: one
// write(2), so the terminal never shows a half-drawn state.
void Emit(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_status.empty()) return WriteAll(line);
  std::string out(kEraseLine);
  out += line;
  out += g_status;
  WriteAll(out);
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format = format; }
LogFormat GetLogFormat() { return g_format; }

void SetLogQuiet(bool quiet) { g_quiet = quiet; }

void LogInfo(std::string_view message) {
  if (g_quiet) return;
  Emit(FormatLine("info", message, /*human_timestamp=*/true));
}

void LogError(std::string_view message) {
  Emit(FormatLine("error", message, /*human_timestamp=*/false));
}

void SetStatusLine(std::string_view line) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (line.empty() && g_status.empty()) return;
  g_status = line;
  std::string out(kEraseLine);
  out += line;
  WriteAll(out);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    const size_t len = Utf8SequenceLength(s);
    if (len == 0) {
      out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out.append(s.substr(0, len));
    }
    s.remove_prefix(len);
  }
  out += '"';
  return out;
}

}  // namespace txflow
