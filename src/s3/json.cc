#include "s3/json.h"

#include <cstdint>

#include "common/utf8.h"

namespace txflow::s3 {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::map<std::string, std::string>> Object() {
    std::map<std::string, std::string> out;
    SkipSpace();
    if (!Take('{')) return Error("expected '{'");
    SkipSpace();
    if (Take('}')) return Finish(std::move(out));
    while (true) {
      SkipSpace();
      TXFLOW_ASSIGN_OR_RETURN(std::string name, String());
      SkipSpace();
      if (!Take(':')) return Error("expected ':'");
      SkipSpace();
      TXFLOW_ASSIGN_OR_RETURN(std::string value, Value());
      if (!out.emplace(std::move(name), std::move(value)).second) {
        return Error("duplicate member");
      }
      SkipSpace();
      if (Take('}')) return Finish(std::move(out));
      if (!Take(',')) return Error("expected ',' or '}'");
    }
  }

 private:
  Status Error(std::string_view why) const {
    return Status::InvalidArgument("bad JSON at byte " + std::to_string(pos_) +
                                   ": " + std::string(why));
  }
  Result<std::map<std::string, std::string>> Finish(
      std::map<std::string, std::string> out) {
    SkipSpace();
    if (pos_ != text_.size()) return Error("text after the object");
    return out;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Result<std::string> Value() {
    if (pos_ >= text_.size()) return Error("expected a value");
    const char c = text_[pos_];
    if (c == '"') return String();
    if (c == '{' || c == '[') return Error("nested values are not supported");
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return std::string(word);
      }
    }
    return Number();
  }

  Result<std::string> Number() {
    const size_t start = pos_;
    Take('-');
    size_t digits = 0;
    while (pos_ < text_.size() &&
           ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' || text_[pos_] == '+' ||
            text_[pos_] == '-')) {
      digits += text_[pos_] >= '0' && text_[pos_] <= '9';
      ++pos_;
    }
    if (digits == 0) return Error("expected a value");
    return std::string(text_.substr(start, pos_ - start));
  }

  Result<std::string> String() {
    if (!Take('"')) return Error("expected a string");
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      TXFLOW_RETURN_IF_ERROR(Escape(out));
    }
    return Error("unterminated string");
  }

  Status Escape(std::string& out) {
    if (pos_ >= text_.size()) return Error("unterminated escape");
    const char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return Status::OK();
      case 'b':
        out += '\b';
        return Status::OK();
      case 'f':
        out += '\f';
        return Status::OK();
      case 'n':
        out += '\n';
        return Status::OK();
      case 'r':
        out += '\r';
        return Status::OK();
      case 't':
        out += '\t';
        return Status::OK();
      case 'u':
        return Unicode(out);
      default:
        return Error("bad escape");
    }
  }

  Result<uint32_t> Hex4() {
    if (text_.size() - pos_ < 4) return Error("bad \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        v |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        v |= h - 'A' + 10;
      } else {
        return Error("bad \\u escape");
      }
    }
    return v;
  }

  Status Unicode(std::string& out) {
    TXFLOW_ASSIGN_OR_RETURN(uint32_t cp, Hex4());
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!Take('\\') || !Take('u')) return Error("lone surrogate");
      TXFLOW_ASSIGN_OR_RETURN(uint32_t low, Hex4());
      if (low < 0xDC00 || low > 0xDFFF) return Error("lone surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Error("lone surrogate");
    }
    AppendUtf8(cp, &out);
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::map<std::string, std::string>> ParseFlatJsonObject(
    std::string_view text) {
  return Parser(text).Object();
}

}  // namespace txflow::s3
