// CarrierStore: what the carrier service persists (schema `carrier`, row-level security per
// company; migrations/). PgCarrierStore (pg_store.h) is the Postgres
// implementation; tests use an in-memory fake with the same contract.
//
// Error codes: kNotFound when a looked-up row does not exist (or belongs to another company:
// tenant-scoped reads never see other companies' rows); kAlreadyExists when a number is owned by
// another company; kUnavailable when the database is unreachable; other db::StatusFromPqxx codes.
// Methods named Find* are cross-tenant lookups used only by the webhook listener to resolve the
// company a carrier webhook belongs to. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/carrier/model.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::carrier {

struct AccountRow {
  std::string company_id;
  Provider primary_provider = Provider::kUnspecified;
  std::string primary_account_id;  // Twilio AccountSid (subaccount when set) / Telnyx connection
  Provider secondary_provider = Provider::kUnspecified;  // kUnspecified = none
  std::string secondary_account_id;
  std::string sealed_credentials;  // opaque to the store (AES-256-GCM, see carrier_core_service.h)
};

struct NumberRow {
  std::string e164;
  std::string company_id;
  std::string provider;  // CarrierProvider::name() that ordered it
  std::string provider_number_id;
};

struct CallRow {
  std::string call_id;  // Twilio CallSid / Telnyx call_control_id
  std::string company_id;
  std::string provider;  // CarrierProvider::name() that placed it
};

struct InstructionsRow {
  std::string company_id;
  std::string e164;
  std::string instructions_id;
  std::string serialized;  // switchboard.carrier.v1.CallInstructions wire bytes
};

// A conference of live call control (migrations/0003_conferences.sql).
struct ConferenceRow {
  std::string company_id;
  std::string name;           // [A-Za-z0-9_-]{1,64}
  std::string a_leg;          // the caller's leg A
  std::string conference_id;  // Telnyx conference id; "" while being created
};

// What a webhook changes in the Telnyx bridge bookkeeping (the leg an A leg is bridged to; see
// CarrierCore::InstructCall).
struct BridgeChange {
  enum class Op { kNone, kSet, kClear };
  Op op = Op::kNone;
  std::string a_leg;  // call_control_id of the leg that runs the plan
  std::string b_leg;  // kSet: the answered target leg; kClear: only if it is this leg ("" = any)
};

class CarrierStore {
 public:
  virtual ~CarrierStore() = default;

  virtual absl::Status PutAccount(const AccountRow& account) = 0;  // insert or replace
  virtual absl::StatusOr<AccountRow> GetAccount(absl::string_view company_id) = 0;
  // Accounts whose primary or secondary account id is `account_id` (cross-tenant).
  virtual absl::StatusOr<std::vector<AccountRow>> FindAccountsByProviderAccountId(
      absl::string_view account_id) = 0;

  // Insert or update; kAlreadyExists when another company owns the number.
  virtual absl::Status PutNumber(const NumberRow& number) = 0;
  virtual absl::StatusOr<NumberRow> GetNumber(absl::string_view company_id,
                                              absl::string_view e164) = 0;
  virtual absl::StatusOr<NumberRow> FindNumber(absl::string_view e164) = 0;  // cross-tenant
  virtual absl::Status DeleteNumber(absl::string_view company_id, absl::string_view e164) = 0;

  virtual absl::Status PutInstructions(const InstructionsRow& row) = 0;  // insert or replace
  virtual absl::StatusOr<InstructionsRow> GetInstructionsForNumber(absl::string_view company_id,
                                                                   absl::string_view e164) = 0;
  // The most recently stored set with that id.
  virtual absl::StatusOr<InstructionsRow> GetInstructionsById(absl::string_view company_id,
                                                              absl::string_view id) = 0;

  virtual absl::Status PutCall(const CallRow& call) = 0;  // insert; same id again is a no-op
  virtual absl::StatusOr<CallRow> GetCall(absl::string_view company_id,
                                          absl::string_view call_id) = 0;
  virtual absl::StatusOr<CallRow> FindCall(absl::string_view call_id) = 0;  // cross-tenant

  // ONE transaction: records `dedupe_key` for the company, appends `event` to the outbox and,
  // when `call` is set, records the call as PutCall does (also on a duplicate delivery; the
  // call must belong to `company_id`), and applies `bridge`: kSet only when the key is new (a
  // late duplicate of an answer never brings back a bridge that ended), kClear always. Returns
  // true when recorded, false when the key was already there (no event appended).
  virtual absl::StatusOr<bool> RecordWebhook(absl::string_view company_id,
                                             absl::string_view dedupe_key,
                                             const events::v1::Event& event,
                                             const std::optional<CallRow>& call,
                                             const BridgeChange& bridge) = 0;

  // The Telnyx leg `a_leg` is bridged to; kNotFound when none.
  virtual absl::StatusOr<std::string> GetBridgedLeg(absl::string_view company_id,
                                                    absl::string_view a_leg) = 0;
  virtual absl::Status PutBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                                     absl::string_view b_leg) = 0;  // insert or replace
  // Removes the bridge of `a_leg` when it is to `b_leg` ("" = any); true when one was removed.
  virtual absl::StatusOr<bool> ClearBridgedLeg(absl::string_view company_id,
                                               absl::string_view a_leg,
                                               absl::string_view b_leg) = 0;
  // Conferences (tenant-scoped): insert or replace by (company, name).
  virtual absl::Status PutConference(const ConferenceRow& row) = 0;
  virtual absl::StatusOr<ConferenceRow> GetConferenceByName(absl::string_view company_id,
                                                            absl::string_view name) = 0;
  // The conference with Telnyx id `conference_id`, else the one still being created (id "")
  // whose A leg is `leg` ("" = none); kNotFound otherwise.
  virtual absl::StatusOr<ConferenceRow> FindConference(absl::string_view company_id,
                                                       absl::string_view conference_id,
                                                       absl::string_view leg) = 0;
  // Legs added to a conference by ADD (Telnyx): insert or replace, not joined.
  virtual absl::Status PutConferenceLeg(absl::string_view company_id, absl::string_view leg,
                                        absl::string_view conference_id) = 0;
  // Marks an added leg joined; false when `leg` is not one.
  virtual absl::StatusOr<bool> MarkConferenceLegJoined(absl::string_view company_id,
                                                       absl::string_view leg) = 0;
  // Whether an added leg has joined; kNotFound when `leg` is not an added leg.
  virtual absl::StatusOr<bool> ConferenceLegJoined(absl::string_view company_id,
                                                   absl::string_view leg) = 0;

  // Appends an event the service itself produces (failover) to the outbox.
  virtual absl::Status AppendEvent(absl::string_view company_id,
                                   const events::v1::Event& event) = 0;

  virtual absl::Status Ping() = 0;
};

}  // namespace switchboard::carrier
