// Load generator for webhook_bench: a separate process driving signed Twilio voice webhooks at
// the carrier's webhook listener over keep-alive HTTP/1.1 connections (one blocking socket per
// connection thread; one request in flight per connection).
//
// Usage:
//   webhook_load --port P --public_base_url URL --auth_token T --account_sid AC.. --to +1..
//                [--connections 8] [--rate 1000] [--seconds 10] [--saturation_seconds 10]
//                [--warmup 200] [--expect TEXT]
// Phases: warm-up (untimed), paced at --rate requests/s for --seconds (open loop: latency is
// measured from each request's *scheduled* send time, so a stall is charged to every request
// it delays), then saturation (closed loop, every connection sends its next request as soon as
// the previous answer arrived) for --saturation_seconds (0 = skipped). Every request carries a
// distinct CallSid (pre-signed before the clock starts), so the carrier's de-duplication never
// short-circuits one. Prints one JSON object per phase on stdout; exits 1 when any answer is
// not HTTP 200 with TwiML (containing --expect when given, e.g. the greeting of the flow routing
// answers with, so a carrier fallback counts as an error), 2 on bad arguments. Each call comes
// from a caller number of its own.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "libs/http/url.h"
#include "services/carrier/signature.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int port = 0;
  std::string public_base_url;
  std::string auth_token;
  std::string account_sid;
  std::string to;
  int connections = 8;
  int rate = 1000;
  int seconds = 10;
  int saturation_seconds = 10;
  int warmup = 200;
  std::string expect;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "webhook_load: %s\n", why.c_str());
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) Usage(absl::StrCat(key, ": missing value"));
    const std::string value = argv[++i];
    auto number = [&](int* out, int min) {
      if (!absl::SimpleAtoi(value, out) || *out < min) Usage(absl::StrCat(key, ": bad value"));
    };
    if (key == "--port") number(&a.port, 1);
    else if (key == "--public_base_url") a.public_base_url = value;
    else if (key == "--auth_token") a.auth_token = value;
    else if (key == "--account_sid") a.account_sid = value;
    else if (key == "--to") a.to = value;
    else if (key == "--connections") number(&a.connections, 1);
    else if (key == "--rate") number(&a.rate, 1);
    else if (key == "--seconds") number(&a.seconds, 1);
    else if (key == "--saturation_seconds") number(&a.saturation_seconds, 0);
    else if (key == "--warmup") number(&a.warmup, 0);
    else if (key == "--expect") a.expect = value;
    else Usage(absl::StrCat("unknown flag ", key));
  }
  if (a.port == 0 || a.public_base_url.empty() || a.auth_token.empty() ||
      a.account_sid.empty() || a.to.empty()) {
    Usage("--port, --public_base_url, --auth_token, --account_sid and --to are required");
  }
  return a;
}

// One signed request, ready to write.
std::string SignedVoiceWebhook(const Args& a, int64_t n) {
  const std::string url = a.public_base_url + "/webhooks/twilio/voice";
  const std::string caller = absl::StrFormat("+1312%07d", n % 10000000);
  const switchboard::carrier::FormParams params = {
      {"AccountSid", a.account_sid},
      {"ApiVersion", "2010-04-01"},
      {"CallSid", absl::StrFormat("CA%032x", n + 1)},
      {"CallStatus", "ringing"},
      {"Called", a.to},
      {"Caller", caller},
      {"Direction", "inbound"},
      {"From", caller},
      {"To", a.to},
  };
  std::string body;
  for (const auto& [k, v] : params) {
    absl::StrAppend(&body, body.empty() ? "" : "&", switchboard::http::PercentEncode(k), "=",
                    switchboard::http::PercentEncode(v));
  }
  return absl::StrCat("POST /webhooks/twilio/voice HTTP/1.1\r\nHost: 127.0.0.1:", a.port,
                      "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      "X-Twilio-Signature: ",
                      switchboard::carrier::TwilioSignature(a.auth_token, url, params),
                      "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

class Connection {
 public:
  Connection(int port, std::string expect) : expect_(std::move(expect)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::fprintf(stderr, "webhook_load: connect to 127.0.0.1:%d failed: %s\n", port,
                   std::strerror(errno));
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request and reads its answer; false (with `error`) unless HTTP 200 with TwiML.
  bool Exchange(const std::string& request, std::string* error) {
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        *error = absl::StrCat("send: ", std::strerror(errno));
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    // Headers, then Content-Length bytes of body (the listener always sends Content-Length).
    size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(error)) return false;
    }
    const std::string head = buffer_.substr(0, header_end);
    size_t length = 0;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      if (absl::StartsWithIgnoreCase(line, "content-length:")) {
        if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length)) {
          *error = "bad Content-Length";
          return false;
        }
      }
    }
    while (buffer_.size() < header_end + 4 + length) {
      if (!Fill(error)) return false;
    }
    const std::string body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    if (!absl::StartsWith(head, "HTTP/1.1 200")) {
      *error = absl::StrCat(head.substr(0, head.find("\r\n")), ": ", body.substr(0, 200));
      return false;
    }
    if (!absl::StrContains(body, "<Response>")) {
      *error = absl::StrCat("not TwiML: ", body.substr(0, 200));
      return false;
    }
    if (!expect_.empty() && !absl::StrContains(body, expect_)) {
      *error = absl::StrCat("TwiML without '", expect_, "': ", body.substr(0, 300));
      return false;
    }
    return true;
  }

 private:
  bool Fill(std::string* error) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      *error = n == 0 ? std::string("connection closed by the server")
                      : absl::StrCat("recv: ", std::strerror(errno));
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  std::string expect_;
  int fd_ = -1;
  std::string buffer_;
};

struct PhaseResult {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  std::string first_error;
  double elapsed_s = 0;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

void Report(const char* phase, int target_rate, PhaseResult& r) {
  const size_t ok = r.latencies_ms.size();
  std::vector<double> v = r.latencies_ms;
  const double p50 = Percentile(v, 0.50), p90 = Percentile(v, 0.90), p99 = Percentile(v, 0.99),
               p999 = Percentile(v, 0.999);
  const double max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  auto ms = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 1000)) / 1000; };
  nlohmann::json out = {
      {"phase", phase},
      {"target_rps", target_rate},
      {"requests_ok", ok},
      {"errors", r.errors},
      {"elapsed_s", ms(r.elapsed_s)},
      {"throughput_rps", r.elapsed_s > 0 ? ms(static_cast<double>(ok) / r.elapsed_s) : 0.0},
      {"p50_ms", ms(p50)},
      {"p90_ms", ms(p90)},
      {"p99_ms", ms(p99)},
      {"p999_ms", ms(p999)},
      {"max_ms", ms(max)}};
  if (!r.first_error.empty()) out["first_error"] = r.first_error;
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
}

// Runs `total` requests (requests[offset..offset+total)) over `conns`. interval > 0: request i
// is scheduled at start + i * interval (open loop); 0: as fast as answers come (closed loop,
// until `deadline`).
PhaseResult RunPhase(int port, const std::string& expect,
                     std::vector<std::unique_ptr<Connection>>& conns,
                     const std::vector<std::string>& requests, size_t offset, size_t total,
                     Clock::duration interval, Clock::time_point deadline) {
  PhaseResult result;
  std::atomic<size_t> next{0};
  std::vector<PhaseResult> per(conns.size());
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (size_t c = 0; c < conns.size(); ++c) {
    threads.emplace_back([&, c] {
      PhaseResult& mine = per[c];
      mine.latencies_ms.reserve(total / conns.size() + 16);
      while (true) {
        const size_t i = next.fetch_add(1);
        if (i >= total) break;
        Clock::time_point scheduled = Clock::now();
        if (interval.count() > 0) {
          scheduled = start + interval * static_cast<int64_t>(i);
          std::this_thread::sleep_until(scheduled);
        } else if (scheduled >= deadline) {
          break;
        }
        std::string error;
        if (conns[c]->Exchange(requests[offset + i], &error)) {
          mine.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count());
        } else {
          ++mine.errors;
          if (mine.first_error.empty()) mine.first_error = error;
          conns[c] = std::make_unique<Connection>(port, expect);  // the answer stream is unusable
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& p : per) {
    result.latencies_ms.insert(result.latencies_ms.end(), p.latencies_ms.begin(),
                               p.latencies_ms.end());
    result.errors += p.errors;
    if (result.first_error.empty()) result.first_error = p.first_error;
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  const size_t paced = static_cast<size_t>(a.rate) * static_cast<size_t>(a.seconds);
  // Saturation needs distinct CallSids too: budget generously (50k/s would be far beyond the
  // listener; the phase stops at its deadline or when the budget runs out).
  const size_t saturation_budget = static_cast<size_t>(a.saturation_seconds) * 20000;
  const size_t total = static_cast<size_t>(a.warmup) + paced + saturation_budget;
  std::vector<std::string> requests;
  requests.reserve(total);
  for (size_t i = 0; i < total; ++i) {
    requests.push_back(SignedVoiceWebhook(a, static_cast<int64_t>(i)));
  }

  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < a.connections; ++i) conns.push_back(std::make_unique<Connection>(a.port, a.expect));

  bool failed = false;
  const auto far = Clock::now() + std::chrono::hours(1);
  if (a.warmup > 0) {
    PhaseResult warm = RunPhase(a.port, a.expect, conns, requests, 0, static_cast<size_t>(a.warmup),
                                Clock::duration::zero(), far);
    if (warm.errors > 0) {
      Report("warmup", 0, warm);
      return 1;
    }
  }
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / a.rate));
  PhaseResult fixed =
      RunPhase(a.port, a.expect, conns, requests, static_cast<size_t>(a.warmup), paced, interval, far);
  Report("fixed_rate", a.rate, fixed);
  failed = failed || fixed.errors > 0;
  if (a.saturation_seconds > 0) {
    const auto deadline = Clock::now() + std::chrono::seconds(a.saturation_seconds);
    PhaseResult sat = RunPhase(a.port, a.expect, conns, requests, static_cast<size_t>(a.warmup) + paced,
                               saturation_budget, Clock::duration::zero(), deadline);
    Report("saturation", 0, sat);
    failed = failed || sat.errors > 0;
  }
  return failed ? 1 : 0;
}
