// Throughput and latency of libs/http for the carrier webhook shape (ARCHITECTURE: 1,000
// webhooks/s, p99 <= 20 ms): each benchmark thread is one keep-alive client posting a ~700-byte
// form body; the handler parses the form and answers a small XML document. Reports requests/s
// and per-thread latency percentiles (p50_us, p99_us, averaged over threads).
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "libs/http/server.h"
#include "libs/http/tests/test_client.h"
#include "libs/http/url.h"

namespace {

using switchboard::http::Request;
using switchboard::http::Response;
using switchboard::http::testing::TestClient;

const std::string& WebhookBody() {
  static const std::string body =
      "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&CallSid="
      "CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Called=%2B15551234567&CalledCity="
      "SAN+FRANCISCO&CalledCountry=US&CalledState=CA&CalledZip=94105&Caller=%2B15557654321&"
      "CallerCity=OAKLAND&CallerCountry=US&CallerState=CA&CallerZip=94607&Direction=inbound&"
      "From=%2B15557654321&FromCity=OAKLAND&FromCountry=US&FromState=CA&FromZip=94607&To=%2B1555"
      "1234567&ToCity=SAN+FRANCISCO&ToCountry=US&ToState=CA&ToZip=94105&StirVerstat="
      "TN-Validation-Passed-A&CallToken=%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9"
      "%22%7D";
  return body;
}

switchboard::http::Server& SharedServer() {
  static std::unique_ptr<switchboard::http::Server> server = [] {
    switchboard::http::Router router;
    router.Add("POST", "/webhooks/voice", [](const Request& request) {
      auto params = switchboard::http::ParseForm(request.body);
      benchmark::DoNotOptimize(params);
      Response response;
      response.headers.emplace_back("Content-Type", "text/xml");
      response.body = "<?xml version=\"1.0\"?><Response><Say>ok</Say></Response>";
      return response;
    });
    switchboard::http::ServerOptions options;
    options.threads = 2;
    auto started = switchboard::http::Server::Start(options, std::move(router));
    if (!started.ok()) std::abort();
    return std::move(*started);
  }();
  return *server;
}

void BM_WebhookKeepAlive(benchmark::State& state) {
  TestClient client(SharedServer().port());
  const std::string request =
      TestClient::Post("/webhooks/voice", WebhookBody(),
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       "X-Twilio-Signature: 0123456789abcdefghijklmnopqr=\r\n");
  std::vector<double> latencies_us;
  latencies_us.reserve(1 << 16);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    client.Send(request);
    auto response = client.Read();
    const auto end = std::chrono::steady_clock::now();
    if (response.result_int() != 200) state.SkipWithError("non-200 response");
    latencies_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  auto percentile = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<size_t>(p * latencies_us.size()))];
  };
  state.counters["p50_us"] = benchmark::Counter(percentile(0.50), benchmark::Counter::kAvgThreads);
  state.counters["p99_us"] = benchmark::Counter(percentile(0.99), benchmark::Counter::kAvgThreads);
  state.counters["req_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WebhookKeepAlive)->Threads(1)->Threads(4)->Threads(16)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
