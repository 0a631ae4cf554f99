// RoutingCore: the routing service's use cases behind the gRPC adapter (routing_service.h).
//
// Configuration (flows with versions, ring groups, voicemail boxes, schedules, rotations),
// validation and the dry run, the live call engine driven by carrier events, and the call log.
// Everything is scoped to the principal's company; another company's ids are NOT_FOUND.
//
// RBAC (ARCHITECTURE.md §5): saving/deleting configuration, ValidateFlow and SimulateCall need
// owner or admin; PlaceCall: a tech as themselves, owner/admin/office (and services) as any user; reading configuration needs owner, admin or office; CheckSchedule and
// WhoIsOnCall are open to every role; HandleCallEvent is for role "service" (carrier) only; the
// call history shows the whole company to owner/admin/office (and services) and a tech's own
// calls to a tech. Otherwise PERMISSION_DENIED.
//
// HandleCallEvent: the call's state is read from Redis (CallStateCache), or from the call log in
// Postgres when Redis lost it; the engine's transition, the call log change, the calls.v1 events
// and the event's dedupe key are written in ONE Postgres transaction, then the state is cached
// in Redis. The answer is the call's CURRENT instruction set: for a duplicate or an event that
// changes nothing (also a DialResult of a set the call no longer runs), the same set (same id)
// with `replayed` set; after the call ended, an empty set; for an unknown
// call that is not a CallIncoming, a goodbye and hang up. A number that is not an active line
// gets "not in service" and a hang up. UNAVAILABLE when Postgres or the numbers service cannot
// be reached (the carrier then falls back to the company voicemail).
//
// Thread-safe: the stores and caches are; no per-call state is kept in memory.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/grpc/principal.h"
#include "libs/metrics/registry.h"
#include "services/routing/engine.h"
#include "services/routing/flow_validate.h"
#include "services/routing/live_ports.h"
#include "services/routing/pg_store.h"
#include "services/routing/service_ports.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

struct RoutingCoreOptions {
  std::string events_source = "routing";
  // How long a flow's latest version is reused before Postgres is asked again (saves through
  // this process invalidate at once).
  absl::Duration flow_cache_ttl = absl::Seconds(5);
  // Optional (must outlive the core): routing_call_events_total{outcome},
  // routing_call_event_seconds, routing_call_state_recovered_total.
  metrics::Registry* metrics = nullptr;
  // Optional (must outlive the core): URLs of flows' audio greetings, for live calls and the
  // dry run. Null = no media service: every audio greeting's text is spoken.
  GreetingUrlCache* greeting_urls = nullptr;
  // The carrier's live-call operations (click-to-call). Null: PlaceCall answers UNAVAILABLE.
  // Must outlive the core.
  CallControl* call_control = nullptr;
};

// The carrier's call key: Twilio ParentCallSid (a dialled child leg) or CallSid, Telnyx
// call_session_id (else call_control_id). Empty when the event names no call.
std::string CallKeyOf(const carrier::v1::CarrierEvent& event);

// True for the states whose law requires every party's consent to record a call (two-letter
// code, any case): CA, CT, DE, FL, IL, MD, MA, MI, MT, NV, NH, PA, WA. Connecticut, Delaware and
// Michigan are contested or mixed in the literature and are included to be safe; Oregon's
// all-party rule covers in-person talks only, not calls.
bool RequiresAllPartyConsent(absl::string_view state);

inline constexpr char kDefaultConsentAnnouncement[] =
    "This call may be recorded for quality and training purposes.";

class RoutingCore {
 public:
  RoutingCore(PgStore& store, CallStateCache& calls, cache::RedisPool& round_robin_redis,
              NumberResolver& numbers, DirectoryCache& directory, ConfigCache& config,
              const Clock& clock, RoutingCoreOptions options = {});

  using P = rpc::Principal;
  absl::StatusOr<v1::Flow> SaveFlow(const P& p, const v1::SaveFlowRequest& req);
  absl::StatusOr<v1::Flow> GetFlow(const P& p, const v1::GetFlowRequest& req);
  absl::StatusOr<v1::ListFlowsResponse> ListFlows(const P& p, const v1::ListFlowsRequest& req);
  absl::StatusOr<v1::ListFlowVersionsResponse> ListFlowVersions(
      const P& p, const v1::ListFlowVersionsRequest& req);
  absl::StatusOr<v1::ValidateFlowResponse> ValidateFlow(const P& p,
                                                        const v1::ValidateFlowRequest& req);

  absl::StatusOr<v1::RingGroup> SaveRingGroup(const P& p, v1::RingGroup group);
  absl::StatusOr<v1::RingGroup> GetRingGroup(const P& p, const std::string& id);
  absl::StatusOr<v1::ListRingGroupsResponse> ListRingGroups(const P& p, const v1::ListRequest& r);
  absl::Status DeleteRingGroup(const P& p, const std::string& id);
  absl::StatusOr<v1::VoicemailBox> SaveVoicemailBox(const P& p, v1::VoicemailBox box);
  absl::StatusOr<v1::VoicemailBox> GetVoicemailBox(const P& p, const std::string& id);
  absl::StatusOr<v1::ListVoicemailBoxesResponse> ListVoicemailBoxes(const P& p,
                                                                    const v1::ListRequest& r);
  absl::Status DeleteVoicemailBox(const P& p, const std::string& id);
  absl::StatusOr<v1::NamedSchedule> SaveSchedule(const P& p, v1::NamedSchedule schedule);
  absl::StatusOr<v1::NamedSchedule> GetSchedule(const P& p, const std::string& id);
  absl::StatusOr<v1::ListSchedulesResponse> ListSchedules(const P& p, const v1::ListRequest& r);
  absl::StatusOr<v1::CheckScheduleResponse> CheckSchedule(const P& p,
                                                          const v1::CheckScheduleRequest& req);
  absl::StatusOr<v1::NamedRotation> SaveOnCallRotation(const P& p, v1::NamedRotation rotation);
  absl::StatusOr<v1::NamedRotation> GetOnCallRotation(const P& p, const std::string& id);
  absl::StatusOr<v1::ListOnCallRotationsResponse> ListOnCallRotations(const P& p,
                                                                      const v1::ListRequest& r);
  absl::StatusOr<v1::WhoIsOnCallResponse> WhoIsOnCall(const P& p,
                                                      const v1::WhoIsOnCallRequest& req);

  absl::StatusOr<v1::SimulateCallResponse> SimulateCall(const P& p,
                                                        const v1::SimulateCallRequest& req);
  absl::StatusOr<v1::HandleCallEventResponse> HandleCallEvent(
      const P& p, const v1::HandleCallEventRequest& req);

  absl::StatusOr<v1::ListCallsResponse> ListCalls(const P& p, const v1::ListCallsRequest& req);
  absl::StatusOr<v1::CallRecord> GetCall(const P& p, const v1::GetCallRequest& req);
  absl::StatusOr<v1::CallNote> AddCallNote(const P& p, const v1::AddCallNoteRequest& req);

  // Click-to-call (routing.proto PlaceCall). The call is stored (pending key) BEFORE the carrier
  // is asked to place it, with client_state "sbcall:<call id>"; the carrier's key replaces the
  // pending one when PlaceCall returns or when the call's first webhook (which may come first)
  // brings the client state back, whichever is first (PgStore::BindCallKey).
  absl::StatusOr<v1::PlaceCallResponse> PlaceCall(const P& p, const v1::PlaceCallRequest& req);

  // Live call control (routing.proto TransferCall, Start/StopCallRecording): the transition and
  // its calls.v1 events are stored first (guarded by the call's seq, retried when a webhook won
  // the race), then the carrier acts; when the carrier fails, a further transition puts the call
  // back as it was (path and a routed event: "... failed: <error>") and the carrier's error is
  // returned.
  absl::StatusOr<v1::CallRecord> TransferCall(const P& p, const v1::TransferCallRequest& req);
  absl::StatusOr<v1::CallRecord> SetCallRecording(const P& p, const v1::CallRecordingRequest& req,
                                                  bool on);
  // Conference-based control (routing.proto HoldCall ... CancelWarmTransfer). The first moves
  // the bridged call into its conference (a transition of its own: stored, then the carrier's
  // MOVE_BRIDGE); the operation follows as a second transition.
  absl::StatusOr<v1::CallRecord> HoldCall(const P& p, const v1::LiveCallRequest& req,
                                          bool on_hold);
  absl::StatusOr<v1::CallRecord> AddParticipant(const P& p, const v1::AddParticipantRequest& req,
                                                bool warm_transfer);
  absl::StatusOr<v1::CallRecord> RemoveParticipant(const P& p,
                                                   const v1::RemoveParticipantRequest& req);
  absl::StatusOr<v1::CallRecord> FinishWarmTransfer(const P& p, const v1::LiveCallRequest& req,
                                                    bool complete);

  absl::StatusOr<v1::RecordingPolicyView> GetRecordingPolicy(const P& p);
  absl::StatusOr<v1::RecordingPolicyView> SetRecordingPolicy(const P& p,
                                                             const v1::RecordingPolicy& policy);

 private:
  struct Live;  // per-call ports
  absl::StatusOr<std::shared_ptr<const v1::Flow>> LoadFlow(const std::string& company_id,
                                                           const std::string& flow_id,
                                                           int64_t version);
  absl::StatusOr<v1::FlowBundle> BundleFor(const CompanySnapshot& snap, const v1::Flow& flow);
  absl::StatusOr<ValidationContext> ContextFor(const std::string& company_id,
                                               const CompanySnapshot& snap);
  absl::StatusOr<v1::HandleCallEventResponse> StartCall(const std::string& key,
                                                          const carrier::v1::CarrierEvent& event,
                                                          absl::Time now);
  // `current_set`: the instruction set the event reports on ("" = unknown); a DialResult of a
  // set the call no longer runs (a transfer replaced it) is stale and changes nothing.
  absl::StatusOr<v1::HandleCallEventResponse> ContinueCall(
      const std::string& key, CachedCall call, const carrier::v1::CarrierEvent& event,
      absl::Time now, absl::string_view current_set = "");
  using MakeControlStep = std::function<absl::StatusOr<Step>(
      const CallEngine& engine, const CompanySnapshot& snap, const v1::CallState& state,
      absl::Time now)>;
  using CarrierAct =
      std::function<absl::Status(CallControl& carrier, const v1::CallState& before, const Step&)>;
  absl::StatusOr<v1::CallRecord> ControlCall(const P& p, const std::string& call_id,
                                             absl::string_view what, const MakeControlStep& make,
                                             const CarrierAct& act);
  absl::Status EnsureConference(const P& p, const std::string& call_id);
  // The carrier follow-ups a stored step asks for (resume the caller, end the call); failures
  // are logged (the step is stored; the participants' reports follow).
  void FollowUp(const Step& step);
  // The call log row, with the live conference's participants.
  absl::StatusOr<v1::CallRecord> CallView(const std::string& company_id,
                                          const std::string& call_id,
                                          const std::string& visible_to);
  absl::StatusOr<v1::FlowBundle> BundleForCall(const CompanySnapshot& snap,
                                               const v1::CallState& state,
                                               const std::string& line_id,
                                               const std::string& assigned_user);
  void FillWrite(const Step& step, absl::Time now, const std::string& call_id,
                 const std::string& key, CallWrite* w);
  absl::Status SaveEntity(const P& p, EntityKind kind, const std::string& id,
                          const std::string& name, const google::protobuf::Message& body);
  void Invalidate(const std::string& company_id);
  // The recording policy on a new instruction set (and the state's copy of it): Dial.record
  // when recording is on, the consent announcement first on a call's first set.
  static void ApplyRecording(const CompanySnapshot& snap, bool first_set, Step* step);

  PgStore& store_;
  CallStateCache& calls_;
  cache::RedisPool& rr_redis_;
  NumberResolver& numbers_;
  DirectoryCache& directory_;
  ConfigCache& config_;
  const Clock& clock_;
  RoutingCoreOptions options_;

  void Count(absl::string_view outcome);

  metrics::Histogram* event_seconds_ = nullptr;
  metrics::Counter* recovered_ = nullptr;
  absl::flat_hash_map<std::string, metrics::Counter*> outcomes_;  // read-only after construction

  struct LatestFlow {
    std::shared_ptr<const v1::Flow> flow;
    absl::Time loaded_at;
    bool refreshing = false;  // expired, and one caller is reloading it (the others reuse it)
  };
  absl::Mutex mu_;
  // (company, flow id, version) -> flow; versions are immutable. Bounded: cleared at 10,000.
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Flow>> versions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, LatestFlow> latest_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::routing
