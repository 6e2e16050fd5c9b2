// One-line, timestamped log messages on stderr. Thread-safe (one write(2) per
// line). Messages must not contain secrets; callers pass URIs, never
// credentials.
//
// Two formats (SetLogFormat): human, "<ISO-8601 ms> <message>"; and JSON for
// log shippers, one object per line:
//   {"ts":"2026-11-25T13:43:42.123Z","level":"info","mechanism":"x","msg":"…"}
// "mechanism" is present when the message starts with "x: ", "y: " or
// "run: " (the prefix the loops already use), which is then left out of
// "msg". Strings are escaped so that any message, including control bytes
// and bytes that are not UTF-8, gives valid JSON (such bytes become U+FFFD).
//
// A status line (the progress line of cli/progress.h) may be kept at the
// bottom of a terminal: every log line first erases it and then redraws it,
// so log lines and the status line never share a row.
#ifndef TXFLOW_COMMON_LOG_H_
#define TXFLOW_COMMON_LOG_H_

#include <string>
#include <string_view>

namespace txflow {

enum class LogFormat { kHuman, kJson };

// Process-wide; set once from --log-format before any thread logs.
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

void LogInfo(std::string_view message);
// A command's final error. Human format: the message alone, as the CLI has
// always printed it ("txflow chunk: …"); JSON: level "error".
void LogError(std::string_view message);

// Silences LogInfo (tests that drive thousands of ticks). LogError still
// prints.
void SetLogQuiet(bool quiet);

// Shows `line` (no '\n') as the terminal's status line, replacing the
// previous one ("\r", erase to end of line, `line`). An empty `line` erases
// it. The caller decides whether stderr is a terminal; this only writes.
void SetStatusLine(std::string_view line);

// `s` as a JSON string literal, quotes included: '"', '\\' and control bytes
// escaped, invalid UTF-8 bytes replaced by U+FFFD.
std::string JsonString(std::string_view s);

}  // namespace txflow

#endif  // TXFLOW_COMMON_LOG_H_
