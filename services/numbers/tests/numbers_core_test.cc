// NumbersCore over in-memory fakes: validation, vanity search, plan limits, the provisioning
// protocol (reserve → order → record, undo on failure), concurrent orders, line assignment,
// release rules, port-in state transitions and the swap, caller ID, consumed events.
#include <catch2/catch.hpp>

#include <thread>

#include "absl/strings/match.h"
#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "services/numbers/numbers_core.h"
#include "services/numbers/tests/fakes.h"

namespace switchboard::numbers {
namespace {

using testing::FakeCache;
using testing::FakeCarrier;
using testing::FakeIdentity;
using testing::FakeNumberStore;

constexpr char kCompany[] = "0190c5d2-0000-7000-8000-0000000000a1";
constexpr char kOther[] = "0190c5d2-0000-7000-8000-0000000000b2";
constexpr char kUser[] = "0190c5d2-0000-7000-8000-00000000aa01";
constexpr char kGone[] = "0190c5d2-0000-7000-8000-00000000aa02";

struct Rig {
  FakeNumberStore store;
  FakeCarrier carrier;
  FakeIdentity identity;
  FakeCache cache;
  FakeClock clock{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<NumbersCore> core;
  Rig() {
    identity.users = {{kUser, true}, {kGone, false}};
    auto c = NumbersCore::Create(store, carrier, identity, cache, clock,
                                 CoreOptions{.key_encryption_key = std::string(32, 'k')});
    REQUIRE(c.ok());
    core = std::move(*c);
  }
  Number Provision(const std::string& e164, LineType type = LineType::kDirect) {
    auto n = core->ProvisionNumber(kCompany, ProvisionInput{.e164 = e164, .line_type = type});
    INFO(n.status());
    REQUIRE(n.ok());
    return *n;
  }
};

TEST_CASE("search validates fields, maps vanity letters and caches per query") {
  Rig r;
  r.carrier.available = {{.e164 = "+12035557586", .locality = "New Haven", .region = "CT"},
                         {.e164 = "+12035557586", .locality = "New Haven", .region = "CT"},
                         {.e164 = "+12035557587", .locality = "Hartford", .region = "CT"}};
  auto found = r.core->SearchNumbers(kCompany, SearchInput{.area_code = "203",
                                                           .contains = "555-PLUM"});
  REQUIRE(found.ok());
  CHECK(r.carrier.last_search.contains == "5557586");
  CHECK(r.carrier.last_search.country == "US");
  CHECK(found->first.size() == 2);  // de-duplicated
  CHECK_FALSE(found->second);
  auto again = r.core->SearchNumbers(kCompany, SearchInput{.area_code = "203",
                                                           .contains = "555-PLUM"});
  REQUIRE(again.ok());
  CHECK(again->second);
  CHECK(r.carrier.search_calls == 1);

  auto by_city = r.core->SearchNumbers(kCompany, SearchInput{.locality = "hartford"});
  REQUIRE(by_city.ok());
  REQUIRE(by_city->first.size() == 1);
  CHECK(by_city->first[0].e164 == "+12035557587");

  struct Bad {
    SearchInput in;
    const char* field;
  };
  for (const Bad& b : std::vector<Bad>{{{.country = "GB"}, "country: "},
                                       {{.area_code = "20"}, "area_code: "},
                                       {{.area_code = "2a3"}, "area_code: "},
                                       {{.contains = "55#5"}, "contains: "},
                                       {{.starts_with = "55*"}, "starts_with: "},
                                       {{.limit = 500}, "limit: "}}) {
    auto s = r.core->SearchNumbers(kCompany, b.in);
    INFO(b.field);
    CHECK(absl::IsInvalidArgument(s.status()));
    CHECK(absl::StartsWith(s.status().message(), b.field));
  }
}

TEST_CASE("provision records an active number and one event") {
  Rig r;
  Number n = r.Provision("+12035550100", LineType::kMain);
  CHECK(n.status == NumberStatus::kActive);
  CHECK(n.area_code == "203");
  CHECK(n.provider == "emulator");
  CHECK(r.carrier.ordered == std::vector<std::string>{"+12035550100"});
  CHECK(r.carrier.ordered_provider == std::vector<std::string>{""});  // the primary
  REQUIRE(r.store.events.size() == 1);
  CHECK(r.store.events[0].kind == DomainEvent::Kind::kProvisioned);
  // A number a search found on the secondary carrier is ordered there.
  REQUIRE(r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550101",
                                                           .provider = "telnyx"})
              .ok());
  CHECK(r.carrier.ordered_provider.back() == "telnyx");
  auto bad = r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+1203555"});
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(absl::StartsWith(bad.status().message(), "e164: "));
  auto cnam = r.core->ProvisionNumber(
      kCompany, ProvisionInput{.e164 = "+12035550101", .caller_id_name = "WAY TOO LONG A NAME"});
  CHECK(absl::StartsWith(cnam.status().message(), "caller_id_name: "));
}

TEST_CASE("plan limits: solo 1, team 3, business 10, naming the plan") {
  for (auto [plan, limit] : std::vector<std::pair<std::string, int>>{
           {"solo", 1}, {"team", 3}, {"business", 10}}) {
    Rig r;
    r.identity.plan = plan;
    for (int i = 0; i < limit; ++i) r.Provision(absl::StrCat("+120355501", 10 + i));
    auto over = r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550199"});
    INFO(plan << ": " << over.status());
    CHECK(absl::IsFailedPrecondition(over.status()));
    CHECK(absl::StrContains(over.status().message(), absl::StrCat("plan '", plan, "'")));
    CHECK(absl::StrContains(over.status().message(), absl::StrCat("at most ", limit)));
    CHECK(r.carrier.ordered.size() == static_cast<size_t>(limit));  // never reached the carrier
  }
}

TEST_CASE("a failed carrier order leaves nothing behind") {
  Rig r;
  r.carrier.order_error = absl::FailedPreconditionError("telnyx error 85001: not available");
  auto n = r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550100"});
  CHECK(absl::IsFailedPrecondition(n.status()));
  CHECK(absl::StrContains(n.status().message(), "85001"));
  CHECK(r.store.RowCount() == 0);
  CHECK(r.carrier.released.empty());
}

TEST_CASE("a failed record after the order releases the number at the carrier") {
  Rig r;
  r.store.fail_next_apply = absl::UnavailableError("postgres down");
  auto n = r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550100"});
  CHECK(absl::IsUnavailable(n.status()));
  CHECK(r.carrier.released == std::vector<std::string>{"+12035550100"});
  CHECK(r.store.RowCount() == 0);
  CHECK(r.store.events.empty());
}

TEST_CASE("two concurrent orders of one number: one wins, the loser releases nothing") {
  Rig r;
  std::vector<absl::Status> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      results[i] = r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550100"})
                       .status();
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) ++ok;
    else CHECK(absl::IsAlreadyExists(s));
  }
  CHECK(ok == 1);
  CHECK(r.carrier.ordered.size() == 1);
  CHECK(r.carrier.released.empty());
}

TEST_CASE("pending orders become active or failed from the carrier's order status") {
  Rig r;
  r.carrier.order_pending = true;
  Number a = r.Provision("+12035550100");
  Number b = r.Provision("+12035550101");
  CHECK(a.status == NumberStatus::kPending);
  CHECK(absl::IsNotFound(r.core->ResolveNumber("+12035550100").status()));
  REQUIRE(r.core->OnNumberOrderStatus(kCompany, "order-1", true, {}).ok());
  REQUIRE(r.core->OnNumberOrderStatus(kCompany, "unknown", false, {"+12035550101"}).ok());
  CHECK(r.core->GetNumber(kCompany, a.id)->status == NumberStatus::kActive);
  CHECK(r.core->GetNumber(kCompany, b.id)->status == NumberStatus::kFailed);
  // Redelivery changes nothing.
  const size_t events = r.store.events.size();
  REQUIRE(r.core->OnNumberOrderStatus(kCompany, "order-1", true, {}).ok());
  CHECK(r.store.events.size() == events);
  // A failed number no longer counts: it can be ordered again.
  r.carrier.order_pending = false;
  CHECK(r.core->ProvisionNumber(kCompany, ProvisionInput{.e164 = "+12035550101"}).ok());
}

TEST_CASE("assign, reassign, unassign; rules per line type") {
  Rig r;
  Number direct = r.Provision("+12035550101");
  Number main = r.Provision("+12035550100", LineType::kMain);
  auto a = r.core->AssignLine(kCompany, direct.line_id, kUser, "");
  REQUIRE(a.ok());
  CHECK(a->assigned_user_id == kUser);
  CHECK(absl::IsFailedPrecondition(
      r.core->AssignLine(kCompany, direct.line_id, kGone, "").status()));
  CHECK(absl::IsNotFound(
      r.core->AssignLine(kCompany, direct.line_id, "0190c5d2-0000-7000-8000-00000000ffff", "")
          .status()));
  CHECK(absl::IsFailedPrecondition(r.core->AssignLine(kCompany, main.line_id, kUser, "")
                                       .status()));
  CHECK(absl::IsInvalidArgument(r.core->AssignLine(kCompany, direct.line_id, "", "").status()));
  CHECK(absl::IsNotFound(r.core->AssignLine(kOther, direct.line_id, kUser, "").status()));
  auto dept = r.core->UpdateLine(kCompany, direct.line_id,
                                 LineUpdate{.line_type = LineType::kDepartment,
                                            .nickname = std::string("Scheduling")});
  REQUIRE(dept.ok());
  CHECK(dept->assigned_user_id.empty());  // a department line has no user
  auto d = r.core->AssignLine(kCompany, direct.line_id, "", "Scheduling");
  REQUIRE(d.ok());
  CHECK(d->department == "Scheduling");
  auto u = r.core->UnassignLine(kCompany, direct.line_id);
  REQUIRE(u.ok());
  CHECK(u->department.empty());
}

TEST_CASE("a deactivated user's line is unassigned and kept") {
  Rig r;
  Number n = r.Provision("+12035550101");
  REQUIRE(r.core->AssignLine(kCompany, n.line_id, kUser, "").ok());
  REQUIRE(r.core->OnUserDeactivated(kCompany, kUser).ok());
  auto after = r.core->GetNumber(kCompany, n.line_id);
  REQUIRE(after.ok());
  CHECK(after->assigned_user_id.empty());
  CHECK(after->status == NumberStatus::kActive);
  CHECK(r.store.events.back().detail == "user_deactivated");
}

TEST_CASE("release: main line with a flow needs force; the record stays") {
  Rig r;
  Number main = r.Provision("+12035550100", LineType::kMain);
  REQUIRE(r.core->SetLineFlow(kCompany, main.line_id, "flow-main").ok());
  auto refused = r.core->ReleaseNumber(kCompany, main.line_id, false);
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(absl::StrContains(refused.status().message(), "flow-main"));
  CHECK(r.carrier.released.empty());
  auto forced = r.core->ReleaseNumber(kCompany, main.line_id, true);
  REQUIRE(forced.ok());
  CHECK(forced->status == NumberStatus::kReleased);
  CHECK(forced->released_at.has_value());
  CHECK(r.carrier.released == std::vector<std::string>{"+12035550100"});
  CHECK(r.core->GetNumber(kCompany, main.id)->status == NumberStatus::kReleased);
  CHECK(absl::IsFailedPrecondition(r.core->ReleaseNumber(kCompany, main.line_id, true).status()));
  // A carrier error keeps the number.
  Number other = r.Provision("+12035550101");
  r.carrier.release_error = absl::UnavailableError("carrier down");
  CHECK(absl::IsUnavailable(r.core->ReleaseNumber(kCompany, other.line_id, false).status()));
  CHECK(r.core->GetNumber(kCompany, other.id)->status == NumberStatus::kActive);
}

TEST_CASE("resolve is cached and invalidated by every change") {
  Rig r;
  Number n = r.Provision("+12035550101");
  auto first = r.core->ResolveNumber("+12035550101");
  REQUIRE(first.ok());
  CHECK_FALSE(first->second);
  auto second = r.core->ResolveNumber("+12035550101");
  REQUIRE(second.ok());
  CHECK(second->second);
  REQUIRE(r.core->SetLineFlow(kCompany, n.line_id, "flow-1").ok());
  auto third = r.core->ResolveNumber("+12035550101");
  REQUIRE(third.ok());
  CHECK_FALSE(third->second);
  CHECK(third->first.flow_id == "flow-1");
  CHECK(third->first.active);
  REQUIRE(r.core->UpdateLine(kCompany, n.line_id, LineUpdate{.active = false}).ok());
  auto off = r.core->ResolveNumber("+12035550101");
  REQUIRE(off.ok());
  CHECK_FALSE(off->second);  // the change invalidated the cache
  CHECK_FALSE(off->first.active);
  CHECK(absl::IsInvalidArgument(r.core->ResolveNumber("12035550101").status()));
  CHECK(absl::IsNotFound(r.core->ResolveNumber("+12035550199").status()));
}

PortInput PortOf(std::vector<std::string> numbers, std::string temp = "") {
  return PortInput{.numbers = std::move(numbers),
                   .current_carrier = "Frontier",
                   .account_number = "ACCT-998877",
                   .pin = "4321",
                   .authorized_name = "Robert Smith",
                   .service_address = {.street = "1 Main St", .locality = "New Haven",
                                       .region = "CT", .postal_code = "06510", .country = "US"},
                   .desired_foc_date = "2026-12-01",
                   .temporary_e164 = std::move(temp)};
}

TEST_CASE("port-in: draft → submitted → exception → ported swaps the temporary line") {
  Rig r;
  auto port = r.core->CreatePortRequest(kCompany, PortOf({"+12035559900"}, "+12035550150"));
  REQUIRE(port.ok());
  CHECK(port->status == PortStatus::kDraft);
  CHECK(port->account_number_sealed != "ACCT-998877");
  CHECK_FALSE(absl::StrContains(port->account_number_sealed, "998877"));
  auto secrets = r.core->OpenPortSecrets(*port);
  REQUIRE(secrets.ok());
  CHECK(secrets->first == "ACCT-998877");
  CHECK(secrets->second == "4321");
  Number temp = *r.core->GetNumber(kCompany, port->temporary_line_id);
  CHECK(temp.e164 == "+12035550150");
  CHECK(temp.line_type == LineType::kMain);
  REQUIRE(r.core->SetLineFlow(kCompany, temp.line_id, "flow-main").ok());

  auto submitted = r.core->SubmitPortRequest(kCompany, port->id);
  REQUIRE(submitted.ok());
  CHECK(submitted->status == PortStatus::kSubmitted);
  CHECK(r.carrier.last_port_spec.account_number == "ACCT-998877");
  CHECK(absl::IsFailedPrecondition(r.core->SubmitPortRequest(kCompany, port->id).status()));

  r.carrier.port_status = PortStatus::kException;
  r.carrier.port_reason = "PIN mismatch";
  auto exc = r.core->GetPortRequest(kCompany, port->id);
  REQUIRE(exc.ok());
  CHECK(exc->status == PortStatus::kException);
  CHECK(exc->reason == "PIN mismatch");

  REQUIRE(r.core->OnPortStatus(kCompany, "port-1", PortStatus::kPorted, "").ok());
  auto done = r.core->GetPortRequest(kCompany, port->id);
  REQUIRE(done.ok());
  CHECK(done->status == PortStatus::kPorted);
  auto line = r.core->GetNumber(kCompany, temp.line_id);
  REQUIRE(line.ok());
  CHECK(line->e164 == "+12035559900");
  CHECK(line->flow_id == "flow-main");
  CHECK(line->line_type == LineType::kMain);
  CHECK(r.core->GetNumber(kCompany, temp.id)->status == NumberStatus::kReleased);
  CHECK(r.carrier.released == std::vector<std::string>{"+12035550150"});
  CHECK(r.core->ResolveNumber("+12035559900")->first.line_id == temp.line_id);
  CHECK(absl::IsNotFound(r.core->ResolveNumber("+12035550150").status()));
  // Terminal: a late report changes nothing, cancel is refused.
  REQUIRE(r.core->OnPortStatus(kCompany, "port-1", PortStatus::kException, "late").ok());
  CHECK(r.core->GetPortRequest(kCompany, port->id)->status == PortStatus::kPorted);
  CHECK(absl::IsFailedPrecondition(r.core->CancelPortRequest(kCompany, port->id).status()));
}

TEST_CASE("port-in validation names the field") {
  Rig r;
  struct Bad {
    PortInput in;
    const char* field;
  };
  PortInput no_numbers = PortOf({});
  PortInput bad_number = PortOf({"+1203"});
  PortInput dup = PortOf({"+12035559900", "+12035559900"});
  PortInput no_account = PortOf({"+12035559900"});
  no_account.account_number.clear();
  PortInput bad_date = PortOf({"+12035559900"});
  bad_date.desired_foc_date = "12/01/2026";
  PortInput no_address = PortOf({"+12035559900"});
  no_address.service_address = {};
  for (const Bad& b : std::vector<Bad>{{no_numbers, "numbers: "},
                                       {bad_number, "numbers[0]: "},
                                       {dup, "numbers[1]: "},
                                       {no_account, "account_number: "},
                                       {bad_date, "desired_foc_date: "},
                                       {no_address, "service_address: "}}) {
    auto s = r.core->CreatePortRequest(kCompany, b.in);
    INFO(b.field << " " << s.status());
    CHECK(absl::IsInvalidArgument(s.status()));
    CHECK(absl::StartsWith(s.status().message(), b.field));
  }
  // A temporary number that cannot be had withdraws the draft (cancelled) and says why.
  r.carrier.order_error = absl::FailedPreconditionError("twilio error 21422: not available");
  auto no_temp = r.core->CreatePortRequest(kCompany, PortOf({"+12035559901"}, "+12035550160"));
  CHECK(absl::IsFailedPrecondition(no_temp.status()));
  CHECK(absl::StartsWith(no_temp.status().message(), "temporary_e164: "));
  auto listed = r.core->ListPortRequests(kCompany);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().status == PortStatus::kCancelled);
  r.carrier.order_error = absl::OkStatus();
  auto cancelled = r.core->CreatePortRequest(kCompany, PortOf({"+12035559900"}));
  REQUIRE(cancelled.ok());
  CHECK(r.core->CancelPortRequest(kCompany, cancelled->id)->status == PortStatus::kCancelled);
  CHECK(absl::IsNotFound(r.core->GetPortRequest(kOther, cancelled->id).status()));
}

TEST_CASE("outbound caller ID: main or the user's own direct line") {
  Rig r;
  Number main = r.Provision("+12035550100", LineType::kMain);
  Number direct = r.Provision("+12035550101");
  auto none = r.core->GetOutboundCallerId(kCompany, kUser);
  REQUIRE(none.ok());
  CHECK(none->e164 == main.e164);
  CHECK(absl::IsFailedPrecondition(
      r.core->SetCallerIdPreference(kCompany, kUser, CallerIdChoice::kDirect)));
  REQUIRE(r.core->AssignLine(kCompany, direct.line_id, kUser, "").ok());
  REQUIRE(r.core->SetCallerIdPreference(kCompany, kUser, CallerIdChoice::kDirect).ok());
  auto own = r.core->GetOutboundCallerId(kCompany, kUser);
  REQUIRE(own.ok());
  CHECK(own->e164 == direct.e164);
  CHECK(own->source == CallerIdChoice::kDirect);
  // Unassigned again: falls back to the main number, never anything else.
  REQUIRE(r.core->UnassignLine(kCompany, direct.line_id).ok());
  CHECK(r.core->GetOutboundCallerId(kCompany, kUser)->e164 == main.e164);
}

TEST_CASE("counts per type for billing") {
  Rig r;
  r.Provision("+12035550100");
  r.Provision("+18885550100");
  Number gone = r.Provision("+12035550101");
  REQUIRE(r.core->ReleaseNumber(kCompany, gone.line_id, false).ok());
  auto c = r.core->CountNumbers(kCompany);
  REQUIRE(c.ok());
  CHECK(c->local == 1);
  CHECK(c->toll_free == 1);
  CHECK(c->total == 2);
  CHECK(c->limit == 10);
  CHECK(c->plan == "business");
}

}  // namespace
}  // namespace switchboard::numbers
