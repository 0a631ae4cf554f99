// ES256 access-token verification throughput on one thread (the gateway's hot path).
//   BM_VerifyCold       every token is new to the verifier: full ECDSA verification
//   BM_VerifyWorkingSet 1,000 distinct live tokens verified round-robin: cache hits
//   BM_Sign             identity's token minting
// Target: >= 50,000 verifications/s/core for BM_VerifyWorkingSet.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/crypto/jwt.h"

namespace switchboard::crypto {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr char kIssuer[] = "https://identity.switchboard.test";

SigningKey Key() {
  absl::StatusOr<SigningKey> key = SigningKey::Generate("bench-key");
  if (!key.ok()) std::abort();
  return *key;
}

Claims ClaimsFor(int i) {
  Claims c;
  c.issuer = kIssuer;
  c.subject = absl::StrCat("0190f0a0-0000-7000-8000-", 100000000000 + i);
  c.company_id = "0190f0a0-0000-7000-8000-0000000000c0";
  c.role = "office";
  c.scopes = {"calls:read", "calls:write", "messages:read", "voicemail:read"};
  c.token_id = absl::StrCat("jti-", i);
  c.issued_at = kNow;
  c.expires_at = kNow + absl::Minutes(15);
  return c;
}

std::vector<std::string> Tokens(const SigningKey& key, int n) {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<std::string> token = SignJwt(key, ClaimsFor(i));
    if (!token.ok()) std::abort();
    tokens.push_back(*std::move(token));
  }
  return tokens;
}

JwtVerifierOptions Options(size_t cache_capacity) {
  JwtVerifierOptions options;
  options.issuer = kIssuer;
  options.cache_capacity = cache_capacity;
  return options;
}

void BM_VerifyCold(benchmark::State& state) {
  const SigningKey key = Key();
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options(/*cache_capacity=*/0));  // every call verifies
  verifier.SetKeys({key.PublicKey()});
  const std::vector<std::string> tokens = Tokens(key, 64);
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Claims> claims = verifier.Verify(tokens[i++ % tokens.size()]);
    if (!claims.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyCold);

void BM_VerifyWorkingSet(benchmark::State& state) {
  const SigningKey key = Key();
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options(/*cache_capacity=*/100000));
  verifier.SetKeys({key.PublicKey()});
  const std::vector<std::string> tokens = Tokens(key, static_cast<int>(state.range(0)));
  for (const std::string& token : tokens) {  // warm: the first sight of each token
    if (!verifier.Verify(token).ok()) std::abort();
  }
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Claims> claims = verifier.Verify(tokens[i++ % tokens.size()]);
    if (!claims.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyWorkingSet)->Arg(1000)->Arg(10000);

void BM_Sign(benchmark::State& state) {
  const SigningKey key = Key();
  const Claims claims = ClaimsFor(1);
  for (auto _ : state) {
    absl::StatusOr<std::string> token = SignJwt(key, claims);
    if (!token.ok()) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign);

}  // namespace
}  // namespace switchboard::crypto

BENCHMARK_MAIN();
