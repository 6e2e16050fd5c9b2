// GNU-style long flags for one subcommand: "--name value", "--name=value",
// "--bool" (or "--bool=true|false"), "--" ends flags. Positional arguments are
// refused. Not thread-safe.
#ifndef TXFLOW_CLI_FLAGS_H_
#define TXFLOW_CLI_FLAGS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "txflow/status.h"

namespace txflow {

class FlagSet {
 public:
  // `command` as typed ("txflow gen"); `summary` is the help's first paragraph.
  FlagSet(std::string command, std::string summary);

  // `metavar` names the value in the help ("URI", "DIR").
  void String(const std::string& name, std::string* out, std::string metavar,
              std::string help, bool required = false);
  void Uint(const std::string& name, uint64_t* out, std::string help);
  // "500ms", "5s", "2m", "1h"; a bare number is seconds.
  void Duration(const std::string& name, std::chrono::milliseconds* out,
                std::string help);
  void Bool(const std::string& name, bool* out, std::string help);
  // Repeatable: each occurrence appends its value to *out.
  void Strings(const std::string& name, std::vector<std::string>* out,
               std::string metavar, std::string help);

  // InvalidArgument with a one-line reason on a usage error. Sets
  // help_requested() for --help / -h (then nothing else is checked).
  Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  // After Parse: whether --name was given (a default and an explicit value
  // equal to it differ here).
  bool WasSet(const std::string& name) const;

  std::string Help() const;

 private:
  enum class Kind { kString, kUint, kDuration, kBool, kStrings };
  struct Flag {
    std::string name;
    Kind kind;
    void* out;
    std::string help;
    bool required;
    std::string default_text;
    std::string metavar;
    bool seen = false;
  };
  Flag* Find(const std::string& name);
  Status Set(Flag& flag, const std::string& value);

  std::string command_;
  std::string summary_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

// Parses "500ms", "5s", "2m", "1h" or bare seconds.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace txflow

#endif  // TXFLOW_CLI_FLAGS_H_
