#include "libs/metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/log.h"

namespace switchboard::metrics {
namespace {

enum Type { kCounter = 0, kGauge = 1, kHistogram = 2 };

constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || absl::StartsWith(name, "__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Shortest round-trip text for a double, with Prometheus' spellings of the specials.
void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto result = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, result.ptr);
  }
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, absl::string_view s, bool escape_quote) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        if (escape_quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default: out += c;
    }
  }
}

// Writes `name{labels,extra}` (extra is an already formatted `le="..."` or empty).
void AppendSeriesName(std::string& out, absl::string_view name, absl::string_view suffix,
                      const Labels& labels, absl::string_view extra_name = "",
                      absl::string_view extra_value = "") {
  out.append(name.data(), name.size());
  out.append(suffix.data(), suffix.size());
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += key;
    out += "=\"";
    AppendEscaped(out, value, true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out.append(extra_name.data(), extra_name.size());
    out += "=\"";
    out.append(extra_value.data(), extra_value.size());
    out += '"';
  }
  out += '}';
}

void AtomicAdd(std::atomic<double>& target, double amount) {
  target.fetch_add(amount, std::memory_order_relaxed);
}

}  // namespace

void Counter::Inc(double amount) {
  if (!(amount >= 0)) return;  // negative or NaN
  AtomicAdd(value_, amount);
}

void Gauge::Inc(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // First bucket whose upper bound is >= value (Prometheus buckets are "le").
  const size_t index =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot snap;
  snap.bounds = bounds_;
  snap.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative[i] = running;
  }
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025,  0.05,  0.1,    0.25,  0.5,
                                               1,      2.5,   5,      10};
  return kBuckets;
}

struct Registry::Family {
  std::string name;
  std::string help;
  int type;
  std::vector<double> buckets;  // histograms only
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family* Registry::FamilyFor(absl::string_view name, absl::string_view help, int type,
                                      const std::vector<double>* buckets, const Labels& labels) {
  if (!IsValidMetricName(name)) {
    log::Error("metrics: invalid metric name; metric not exported",
               {{"metric", std::string(name)}});
    return nullptr;
  }
  for (const auto& [key, value] : labels) {
    if (!IsValidLabelName(key) || (type == kHistogram && key == "le")) {
      log::Error("metrics: invalid label name; metric not exported",
                 {{"metric", std::string(name)}, {"label", key}});
      return nullptr;
    }
  }
  if (buckets != nullptr) {
    for (size_t i = 0; i < buckets->size(); ++i) {
      if (!std::isfinite((*buckets)[i]) || (i > 0 && (*buckets)[i] <= (*buckets)[i - 1])) {
        log::Error("metrics: histogram buckets must be finite and strictly increasing; metric "
                   "not exported",
                   {{"metric", std::string(name)}});
        return nullptr;
      }
    }
  }
  auto it = families_.find(std::string(name));
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
    if (buckets != nullptr) family->buckets = *buckets;
    it = families_.emplace(family->name, std::move(family)).first;
  }
  Family* family = it->second.get();
  if (family->type != type) {
    log::Error("metrics: metric already registered with another type; metric not exported",
               {{"metric", std::string(name)},
                {"registered", kTypeNames[family->type]},
                {"requested", kTypeNames[type]}});
    return nullptr;
  }
  return family;
}

template <typename T>
T& Registry::Detached(std::vector<std::unique_ptr<T>>& pool, std::unique_ptr<T> metric) {
  pool.push_back(std::move(metric));
  return *pool.back();
}

Counter& Registry::GetCounter(absl::string_view name, absl::string_view help,
                              const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family* family = FamilyFor(name, help, kCounter, nullptr, labels);
  if (family == nullptr) return Detached(detached_counters_, std::make_unique<Counter>());
  auto& slot = family->counters[labels];
  if (slot == nullptr) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(absl::string_view name, absl::string_view help, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family* family = FamilyFor(name, help, kGauge, nullptr, labels);
  if (family == nullptr) return Detached(detached_gauges_, std::make_unique<Gauge>());
  auto& slot = family->gauges[labels];
  if (slot == nullptr) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(absl::string_view name, absl::string_view help,
                                  const std::vector<double>& buckets, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family* family = FamilyFor(name, help, kHistogram, &buckets, labels);
  if (family == nullptr) {
    return Detached(detached_histograms_, std::make_unique<Histogram>(buckets));
  }
  auto& slot = family->histograms[labels];
  // The family's buckets (from its first registration) win, so every series shares them.
  if (slot == nullptr) slot = std::make_unique<Histogram>(family->buckets);
  return *slot;
}

std::string Registry::Exposition() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(out, family->help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypeNames[family->type];
    out += '\n';
    switch (family->type) {
      case kCounter:
        for (const auto& [labels, counter] : family->counters) {
          AppendSeriesName(out, name, "", labels);
          out += ' ';
          AppendDouble(out, counter->Value());
          out += '\n';
        }
        break;
      case kGauge:
        for (const auto& [labels, gauge] : family->gauges) {
          AppendSeriesName(out, name, "", labels);
          out += ' ';
          AppendDouble(out, gauge->Value());
          out += '\n';
        }
        break;
      case kHistogram:
        for (const auto& [labels, histogram] : family->histograms) {
          const Histogram::Snapshot snap = histogram->Snap();
          for (size_t i = 0; i <= snap.bounds.size(); ++i) {
            std::string le;
            if (i < snap.bounds.size()) {
              AppendDouble(le, snap.bounds[i]);
            } else {
              le = "+Inf";
            }
            AppendSeriesName(out, name, "_bucket", labels, "le", le);
            out += ' ';
            out += std::to_string(snap.cumulative[i]);
            out += '\n';
          }
          AppendSeriesName(out, name, "_sum", labels);
          out += ' ';
          AppendDouble(out, snap.sum);
          out += '\n';
          AppendSeriesName(out, name, "_count", labels);
          out += ' ';
          out += std::to_string(snap.count);
          out += '\n';
        }
        break;
    }
  }
  return out;
}

}  // namespace switchboard::metrics
