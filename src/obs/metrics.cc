#include "obs/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace txflow::obs {
namespace {

bool ValidName(const std::string& n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       c == '_' || (allow_colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

[[noreturn]] void Misuse(const std::string& what) {
  std::fprintf(stderr, "txflow: metrics registry misuse: %s\n", what.c_str());
  std::abort();
}

void AppendLabels(const Labels& labels, const std::string* le,
                  std::string* out) {
  if (labels.empty() && le == nullptr) return;
  *out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) *out += ',';
    first = false;
    *out += k + "=\"" + EscapeLabelValue(v) + '"';
  }
  if (le != nullptr) {
    if (!first) *out += ',';
    *out += "le=\"" + *le + '"';
  }
  *out += '}';
}

}  // namespace

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); ++i) {
    if (!(bounds_[i] < bounds_[i + 1])) Misuse("histogram bounds not sorted");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  // A linear scan: a dozen bounds, and the common values sit in the first few.
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t j = 0; j <= i && j <= bounds_.size(); ++j) {
    total += buckets_[j].load(std::memory_order_relaxed);
  }
  return total;
}

Registry::Series& Registry::Add(const std::string& name,
                                const std::string& help, Type type,
                                const Labels& labels) {
  if (!ValidName(name, true)) Misuse("bad metric name '" + name + "'");
  std::vector<std::string> label_names;
  for (const auto& [k, v] : labels) {
    if (!ValidName(k, false) || k.rfind("__", 0) == 0 || k == "le") {
      Misuse("bad label name '" + k + "' on " + name);
    }
    label_names.push_back(k);
  }
  Family* family = nullptr;
  for (auto& f : families_) {
    if (f->name == name) family = f.get();
  }
  if (family == nullptr) {
    families_.push_back(
        std::make_unique<Family>(Family{name, help, type, label_names, {}}));
    family = families_.back().get();
  } else if (family->type != type || family->help != help ||
             family->label_names != label_names) {
    Misuse("family '" + name + "' registered twice differently");
  }
  for (const Series& s : family->series) {
    if (s.labels == labels) Misuse("series registered twice on " + name);
  }
  family->series.push_back(Series{labels, nullptr, nullptr, nullptr, {}});
  return family->series.back();
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = Add(name, help, Type::kCounter, labels);
  s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help,
                          const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = Add(name, help, Type::kGauge, labels);
  s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::AddHistogram(const std::string& name,
                                  const std::string& help,
                                  std::vector<double> bounds,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = Add(name, help, Type::kHistogram, labels);
  s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void Registry::AddGaugeFunc(const std::string& name, const std::string& help,
                            std::function<double()> read,
                            const Labels& labels) {
  std::lock_guard lock(mu_);
  Add(name, help, Type::kGauge, labels).read = std::move(read);
}

void Registry::AddCounterFunc(const std::string& name, const std::string& help,
                              std::function<double()> read,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  Add(name, help, Type::kCounter, labels).read = std::move(read);
}

void Registry::RenderSeries(const Family& f, const Series& s,
                            std::string* out) {
  if (s.histogram) {
    const Histogram& h = *s.histogram;
    for (size_t i = 0; i <= h.bounds().size(); ++i) {
      const std::string le = i < h.bounds().size()
                                 ? FormatSampleValue(h.bounds()[i])
                                 : std::string("+Inf");
      *out += f.name + "_bucket";
      AppendLabels(s.labels, &le, out);
      *out += ' ' + std::to_string(h.cumulative(i)) + '\n';
    }
    *out += f.name + "_sum";
    AppendLabels(s.labels, nullptr, out);
    *out += ' ' + FormatSampleValue(h.sum()) + '\n';
    *out += f.name + "_count";
    AppendLabels(s.labels, nullptr, out);
    *out += ' ' + std::to_string(h.count()) + '\n';
    return;
  }
  *out += f.name;
  AppendLabels(s.labels, nullptr, out);
  *out += ' ';
  if (s.counter) {
    *out += std::to_string(s.counter->value());
  } else if (s.gauge) {
    *out += FormatSampleValue(s.gauge->value());
  } else {
    *out += FormatSampleValue(s.read());
  }
  *out += '\n';
}

std::string Registry::Render() const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f->name + ' ' + EscapeHelp(f->help) + '\n';
    out += "# TYPE " + f->name + ' ' + kTypeNames[static_cast<int>(f->type)] +
           '\n';
    for (const Series& s : f->series) RenderSeries(*f, s, &out);
  }
  return out;
}

}  // namespace txflow::obs
