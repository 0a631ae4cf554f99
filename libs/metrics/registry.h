// Prometheus metrics: counters, gauges and histograms, exposed in the text format 0.0.4.
//
// Usage: look a metric up once (at construction), keep the reference, update it on the hot path.
//   Counter& handled = registry.GetCounter("webhooks_handled_total", "Webhooks handled.",
//                                          {{"provider", "twilio"}});
//   handled.Inc();
//
// Thread-safety: Registry is thread-safe. Counter, Gauge and Histogram updates are lock-free
// (relaxed atomics) and may race freely with each other and with Exposition().
//
// Misuse never crashes the process: an invalid metric or label name, a name already registered
// with another type, or a histogram bucket list that is not strictly increasing is logged
// (libs/common log.h, level error) and the call returns a detached metric that works but is never
// exported. For a histogram family registered again with other buckets, the first buckets win.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace switchboard::metrics {

// Label name -> value. Sorted, so {a,b} and {b,a} are the same series.
using Labels = std::map<std::string, std::string>;

// Monotonic counter. Inc() with a negative or NaN amount is ignored (counters never go down).
class Counter {
 public:
  void Inc(double amount = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double amount = 1);
  void Dec(double amount = 1) { Inc(-amount); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds (plus the implicit +Inf bucket).
class Histogram {
 public:
  // `bounds` must be strictly increasing and finite (the Registry checks this).
  explicit Histogram(std::vector<double> bounds);

  // Adds one observation. NaN is ignored. Lock-free: a binary search and three atomic adds.
  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;             // upper bounds, without +Inf
    std::vector<uint64_t> cumulative;       // bounds.size() + 1 entries; the last is +Inf
    double sum = 0;
    uint64_t count = 0;                     // == cumulative.back()
  };
  // A consistent-enough copy for exposition (each field read atomically; count is derived from
  // the buckets so that +Inf always equals _count).
  Snapshot Snap() const;

  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Default buckets for latencies in seconds: 0.5 ms up to 10 s.
const std::vector<double>& DefaultLatencyBuckets();

// Owns every metric. References returned by Get*() stay valid for the Registry's lifetime.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the series `name{labels}`, creating the family and series on first use. `help` is
  // taken from the first registration of the family. Names follow Prometheus rules
  // ([a-zA-Z_:][a-zA-Z0-9_:]*, labels [a-zA-Z_][a-zA-Z0-9_]* not starting with "__"; "le" is
  // reserved for histograms). Takes a mutex: call once and keep the reference.
  Counter& GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Gauge& GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(absl::string_view name, absl::string_view help,
                          const std::vector<double>& buckets = DefaultLatencyBuckets(),
                          const Labels& labels = {});

  // The whole registry in Prometheus text format 0.0.4: families sorted by name, each with
  // # HELP and # TYPE once, series sorted by labels; histograms as cumulative _bucket{le=...},
  // _sum and _count. Label values and help text are escaped per the format.
  std::string Exposition() const;

  struct Family;

 private:
  Family* FamilyFor(absl::string_view name, absl::string_view help, int type,
                    const std::vector<double>* buckets, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename T>
  T& Detached(std::vector<std::unique_ptr<T>>& pool, std::unique_ptr<T> metric)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
  // Metrics handed out on misuse; kept alive, never exported.
  std::vector<std::unique_ptr<Counter>> detached_counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Gauge>> detached_gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Histogram>> detached_histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::metrics
