#include "cli/flags.h"

#include <charconv>

namespace txflow {
namespace {

Result<uint64_t> ParseUint(const std::string& text) {
  uint64_t v = 0;
  std::string digits;
  for (char c : text) {
    if (c != '_') digits += c;  // 10_000_000 reads better on a command line
  }
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() ||
      ptr != digits.data() + digits.size()) {
    return Status::InvalidArgument("'" + text +
                                   "' is not a non-negative integer");
  }
  return v;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  const std::string unit = text.substr(i);
  auto number = ParseUint(text.substr(0, i));
  if (!number.ok()) {
    return Status::InvalidArgument("'" + text +
                                   "' is not a duration (e.g. 500ms, 5s, 2m)");
  }
  uint64_t factor;
  if (unit.empty() || unit == "s") {
    factor = 1000;
  } else if (unit == "ms") {
    factor = 1;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else {
    return Status::InvalidArgument("'" + text +
                                   "' has an unknown unit (use ms, s, m, h)");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(*number * factor));
}

FlagSet::FlagSet(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void FlagSet::String(const std::string& name, std::string* out,
                     std::string metavar, std::string help, bool required) {
  flags_.push_back({name, Kind::kString, out, std::move(help), required,
                    out->empty() ? "" : *out, std::move(metavar)});
}

void FlagSet::Uint(const std::string& name, uint64_t* out, std::string help) {
  flags_.push_back({name, Kind::kUint, out, std::move(help), false,
                    std::to_string(*out), ""});
}

void FlagSet::Duration(const std::string& name, std::chrono::milliseconds* out,
                       std::string help) {
  flags_.push_back({name, Kind::kDuration, out, std::move(help), false,
                    FormatDuration(*out), ""});
}

void FlagSet::Bool(const std::string& name, bool* out, std::string help) {
  flags_.push_back({name, Kind::kBool, out, std::move(help), false, "", ""});
}

void FlagSet::Strings(const std::string& name, std::vector<std::string>* out,
                      std::string metavar, std::string help) {
  flags_.push_back({name, Kind::kStrings, out,
                    std::move(help) + " (repeatable)", false, "",
                    std::move(metavar)});
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::WasSet(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

Status FlagSet::Set(Flag& flag, const std::string& value) {
  auto bad = [&](const Status& s) {
    return Status::InvalidArgument("--" + flag.name + ": " + s.message());
  };
  switch (flag.kind) {
    case Kind::kString:
      if (value.empty())
        return Status::InvalidArgument("--" + flag.name + " is empty");
      *static_cast<std::string*>(flag.out) = value;
      break;
    case Kind::kUint: {
      auto v = ParseUint(value);
      if (!v.ok()) return bad(v.status());
      *static_cast<uint64_t*>(flag.out) = *v;
      break;
    }
    case Kind::kDuration: {
      auto v = ParseDuration(value);
      if (!v.ok()) return bad(v.status());
      *static_cast<std::chrono::milliseconds*>(flag.out) = *v;
      break;
    }
    case Kind::kStrings:
      if (value.empty())
        return Status::InvalidArgument("--" + flag.name + " is empty");
      static_cast<std::vector<std::string>*>(flag.out)->push_back(value);
      break;
    case Kind::kBool:
      if (value == "true" || value == "1") {
        *static_cast<bool*>(flag.out) = true;
      } else if (value == "false" || value == "0") {
        *static_cast<bool*>(flag.out) = false;
      } else {
        return Status::InvalidArgument("--" + flag.name +
                                       " takes true or false");
      }
      break;
  }
  flag.seen = true;
  return Status::OK();
}

Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      help_requested_ = true;
      return Status::OK();
    }
    if (a == "--") break;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return Status::InvalidArgument("unexpected argument '" + args[i + 1] +
                                       "'");
      }
      break;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      return Status::InvalidArgument("unexpected argument '" + arg + "'");
    }
    const size_t eq = arg.find('=');
    const std::string name =
        arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    Flag* flag = Find(name);
    if (flag == nullptr)
      return Status::InvalidArgument("unknown flag --" + name);
    if (flag->seen && flag->kind != Kind::kStrings)
      return Status::InvalidArgument("--" + name + " given twice");
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (flag->kind == Kind::kBool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument("--" + name + " needs a value");
    }
    TXFLOW_RETURN_IF_ERROR(Set(*flag, value));
  }
  for (const auto& f : flags_) {
    if (f.required && !f.seen) {
      return Status::InvalidArgument("missing required flag --" + f.name);
    }
  }
  return Status::OK();
}

std::string FlagSet::Help() const {
  std::string out =
      "Usage: " + command_ + " [flags]\n\n" + summary_ + "\n\nFlags:\n";
  for (const auto& f : flags_) {
    std::string left = "  --" + f.name;
    switch (f.kind) {
      case Kind::kString:
      case Kind::kStrings:
        left += " " + f.metavar;
        break;
      case Kind::kUint:
        left += " N";
        break;
      case Kind::kDuration:
        left += " DURATION";
        break;
      case Kind::kBool:
        break;
    }
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "  ";
    out += left + f.help;
    if (f.required)
      out += " (required)";
    else if (!f.default_text.empty())
      out += " (default " + f.default_text + ")";
    out += "\n";
  }
  out += "  --help                    show this help\n";
  return out;
}

}  // namespace txflow
