// ResolveNumber from the cache: routing's lookup on every inbound call. Provisions N numbers in
// a real Postgres schema (fake carrier/identity: the carrier is not on this path), warms the
// Redis cache, then T client threads resolve random numbers for S seconds, both straight
// through NumbersCore (Redis hop only) and through the gRPC adapter (routing's real path:
// loopback gRPC + Redis). Prints lookups/s and p50/p99/p999 per mode. Targets (issue 4):
// >= 50,000 lookups/s, p99 <= 1 ms. Reads SB_PG_DSN / SB_REDIS_URL (./tools/dev testenv up).
// Usage: resolve_number_bench [numbers=1000] [threads=8] [seconds=5]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "services/numbers/numbers_core.h"
#include "services/numbers/numbers_service.h"
#include "services/numbers/pg_store.h"
#include "services/numbers/redis_cache.h"

using namespace switchboard;           // NOLINT: a standalone tool
using namespace switchboard::numbers;  // NOLINT

namespace {

class InstantCarrier final : public CarrierClient {
 public:
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(absl::string_view,
                                                             const NumberSearch&) override {
    return std::vector<AvailableNumber>{};
  }
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view, absl::string_view e164,
                                            absl::string_view) override {
    return OrderedNumber{.provider_number_id = "PN", .e164 = std::string(e164),
                         .order_id = "o", .provider = "emulator"};
  }
  absl::Status ReleaseNumber(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<CarrierPortOrder> CreatePortOrder(absl::string_view,
                                                   const PortOrderSpec&) override {
    return absl::UnimplementedError("bench");
  }
  absl::StatusOr<CarrierPortOrder> GetPortOrder(absl::string_view, absl::string_view) override {
    return absl::UnimplementedError("bench");
  }
};

class EnterprisePlan final : public IdentityClient {
 public:
  absl::StatusOr<CompanyPlan> GetPlan(absl::string_view) override {
    return CompanyPlan{"enterprise", 0};
  }
  absl::StatusOr<UserInfo> GetUser(absl::string_view, absl::string_view id) override {
    return UserInfo{std::string(id), true};
  }
};

struct Result {
  double per_second = 0;
  int64_t p50_us = 0, p99_us = 0, p999_us = 0;
  int64_t errors = 0;
  int64_t misses = 0;
};

template <typename Lookup>
Result Run(int threads, int seconds, const std::vector<std::string>& numbers, Lookup lookup) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<int64_t>> lat(threads);
  std::atomic<int64_t> errors{0}, misses{0};
  std::vector<std::thread> pool;
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      std::uniform_int_distribution<size_t> pick(0, numbers.size() - 1);
      lat[t].reserve(1 << 20);
      while (!stop.load(std::memory_order_relaxed)) {
        const absl::Time a = absl::Now();
        int outcome = lookup(numbers[pick(rng)]);  // 0 hit, 1 miss, 2 error
        lat[t].push_back(absl::ToInt64Microseconds(absl::Now() - a));
        if (outcome == 1) ++misses;
        if (outcome == 2) ++errors;
      }
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.per_second = all.size() / elapsed;
  auto q = [&](double p) { return all.empty() ? 0 : all[std::min(all.size() - 1,
                                                                 size_t(p * all.size()))]; };
  r.p50_us = q(0.50);
  r.p99_us = q(0.99);
  r.p999_us = q(0.999);
  r.errors = errors;
  r.misses = misses;
  return r;
}

void Print(const char* mode, int threads, const Result& r) {
  std::printf("%-6s threads=%-3d %9.0f lookups/s  p50=%4lld us  p99=%5lld us  p99.9=%5lld us"
              "  misses=%lld errors=%lld\n",
              mode, threads, r.per_second, static_cast<long long>(r.p50_us),
              static_cast<long long>(r.p99_us), static_cast<long long>(r.p999_us),
              static_cast<long long>(r.misses), static_cast<long long>(r.errors));
}

}  // namespace

int main(int argc, char** argv) {
  const int count = bench::IntArg(argc, argv, 1, 1000, 1);
  const int threads = bench::IntArg(argc, argv, 2, 8, 1);
  const int seconds = bench::IntArg(argc, argv, 3, 5, 1);

  auto db = testing::PgTestSchema::Create({});
  if (!db.ok()) return bench::Fail("postgres", db.status());
  if (absl::Status s = MigrateNumbers((*db)->pool()); !s.ok()) return bench::Fail("migrate", s);
  auto ns = testing::RedisTestNamespace::Create();
  if (!ns.ok()) return bench::Fail("redis", ns.status());
  auto redis = cache::RedisPool::Create(cache::RedisOptions{
      .url = (*ns)->url(), .pool_size = threads, .key_prefix = (*ns)->prefix()});
  if (!redis.ok()) return bench::Fail("redis pool", redis.status());

  PgNumberStore store((*db)->pool(), SystemClock());
  RedisNumbersCache cache(**redis, RedisCacheOptions{});
  InstantCarrier carrier;
  EnterprisePlan identity;
  auto core = NumbersCore::Create(store, carrier, identity, cache, SystemClock(),
                                  CoreOptions{.key_encryption_key = std::string(32, 'b')});
  if (!core.ok()) return bench::Fail("core", core.status());

  const std::string company = NewUuidV7();
  std::vector<std::string> numbers;
  for (int i = 0; i < count; ++i) {
    const std::string e164 = absl::StrFormat("+1203%07d", 2000000 + i);
    auto n = (*core)->ProvisionNumber(company, ProvisionInput{.e164 = e164});
    if (!n.ok()) return bench::Fail("provision", n.status());
    numbers.push_back(e164);
  }
  for (const std::string& e : numbers) {  // warm the cache
    if (auto r = (*core)->ResolveNumber(e); !r.ok()) return bench::Fail("resolve", r.status());
  }
  std::printf("%d numbers provisioned and cached; %d threads, %d s per mode\n", count, threads,
              seconds);

  Result direct = Run(threads, seconds, numbers, [&](const std::string& e) {
    auto r = (*core)->ResolveNumber(e);
    if (!r.ok()) return 2;
    return r->second ? 0 : 1;
  });
  Print("core", threads, direct);

  NumbersService service(**core);
  auto server = testing::GrpcTestServer::Create({&service});
  if (!server.ok()) return bench::Fail("grpc", server.status());
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int t = 0; t < 4; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", t);  // separate connections
    channels.push_back(grpc::CreateCustomChannel((*server)->address(),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  std::atomic<int> next{0};
  thread_local std::unique_ptr<v1::Numbers::Stub> stub;
  Result over_grpc = Run(threads, seconds, numbers, [&](const std::string& e) {
    if (stub == nullptr) stub = v1::Numbers::NewStub(channels[next++ % channels.size()]);
    v1::ResolveNumberRequest req;
    req.set_e164(e);
    v1::ResolvedNumber resp;
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = company, .role = "service"});
    grpc::Status s = stub->ResolveNumber(&ctx, req, &resp);
    if (!s.ok()) return 2;
    return resp.cached() ? 0 : 1;
  });
  Print("grpc", threads, over_grpc);
  return direct.errors + over_grpc.errors == 0 ? 0 : 1;
}
