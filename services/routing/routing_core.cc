#include "services/routing/routing_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/event.h"
#include "services/routing/flow_validate.h"
#include "services/routing/oncall.h"
#include "services/routing/schedule.h"
#include "services/routing/simulate.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
namespace ev1 = ::switchboard::events::v1;

constexpr char kLinePrefix[] = "line:";  // synthetic direct-line flows: "line:<line>:<user>"
constexpr char kOutboundFlowId[] = "outbound";  // the synthetic flow of click-to-calls
constexpr char kPlacedCallTag[] = "sbcall:";    // client_state of a placed call: sbcall:<id>
constexpr char kPendingKeyPrefix[] = "pending:";  // a placed call's key until the carrier's


bool IsService(const rpc::Principal& p) { return p.role == "service"; }
bool IsManager(const rpc::Principal& p) {
  return p.role == "owner" || p.role == "admin" || IsService(p);
}
bool IsViewer(const rpc::Principal& p) { return IsManager(p) || p.role == "office"; }

absl::Status RequireCompany(const rpc::Principal& p) {
  if (p.company_id.empty()) return absl::UnauthenticatedError("no company in the principal");
  return absl::OkStatus();
}
absl::Status RequireManager(const rpc::Principal& p) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (!IsManager(p)) {
    return absl::PermissionDeniedError("configuring routing needs the owner or admin role");
  }
  return absl::OkStatus();
}
absl::Status RequireViewer(const rpc::Principal& p) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (!IsViewer(p)) {
    return absl::PermissionDeniedError("reading routing configuration needs owner, admin or office");
  }
  return absl::OkStatus();
}

// Client-chosen ids are [A-Za-z0-9_-]{1,64}; empty = a new UUIDv7.
absl::StatusOr<std::string> IdOrNew(absl::string_view field, const std::string& id,
                                    absl::Time now) {
  if (id.empty()) return NewUuidV7(now);
  if (id.size() > 64) return absl::InvalidArgumentError(absl::StrCat(field, ": longer than 64"));
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": only letters, digits, '_' and '-' are allowed"));
    }
  }
  return id;
}

absl::Status ProblemsStatus(const std::vector<ValidationProblem>& problems) {
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  lines.reserve(problems.size());
  for (const ValidationProblem& p : problems) lines.push_back(p.ToString());
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}
absl::Status ScheduleProblemsStatus(const std::vector<ScheduleProblem>& problems) {
  if (problems.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const ScheduleProblem& p : problems) lines.push_back(absl::StrCat(p.path, ": ", p.message));
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

int PageSize(int32_t requested) {
  if (requested <= 0) return 50;
  return std::min(requested, 200);
}

absl::Time TimeOr(const google::protobuf::Timestamp& ts, bool has, absl::Time fallback) {
  if (!has) return fallback;
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string StatusName(v1::CallStatus s) {
  switch (s) {
    case v1::COMPLETED:
      return "completed";
    case v1::MISSED:
      return "missed";
    case v1::VOICEMAIL:
      return "voicemail";
    case v1::FAILED:
      return "failed";
    case v1::BUSY:
      return "busy";
    default:
      return "";
  }
}

bool FallbackUses(const v1::Fallback& f, absl::string_view group, absl::string_view box);

// Does `action` (or its no-answer fallback) name this group / box?
bool ActionUses(const v1::Action& a, absl::string_view group, absl::string_view box) {
  switch (a.kind_case()) {
    case v1::Action::kRingGroupId:
      return !group.empty() && a.ring_group_id() == group;
    case v1::Action::kVoicemailBoxId:
      return !box.empty() && a.voicemail_box_id() == box;
    case v1::Action::kRingUser:
      return a.ring_user().has_on_no_answer() &&
             FallbackUses(a.ring_user().on_no_answer(), group, box);
    case v1::Action::kExternalNumber:
      return a.external_number().has_on_no_answer() &&
             FallbackUses(a.external_number().on_no_answer(), group, box);
    case v1::Action::kOnCall:
      return a.on_call().has_on_no_answer() &&
             FallbackUses(a.on_call().on_no_answer(), group, box);
    default:
      return false;
  }
}
bool FlowUses(const v1::Flow& f, absl::string_view group, absl::string_view box) {
  if (!box.empty() && f.default_voicemail_box_id() == box) return true;
  if (f.has_operator_action() && ActionUses(f.operator_action(), group, box)) return true;
  if (f.has_direct_line() && !box.empty() && f.direct_line().voicemail_box_id() == box) return true;
  for (const v1::Menu& m : f.menus().menus()) {
    if (m.has_default_action() && ActionUses(m.default_action(), group, box)) return true;
    for (const v1::KeyBinding& k : m.keys()) {
      if (ActionUses(k.action(), group, box)) return true;
    }
  }
  return false;
}
bool FallbackUses(const v1::Fallback& f, absl::string_view group, absl::string_view box) {
  if (!group.empty() && f.target_case() == v1::Fallback::kRingGroupId && f.ring_group_id() == group) {
    return true;
  }
  return !box.empty() && f.target_case() == v1::Fallback::kVoicemailBoxId &&
         f.voicemail_box_id() == box;
}

carrier::v1::CallInstructions GoodbyeSet(absl::string_view id, absl::string_view text) {
  cv1::CallInstructions out;
  out.set_id(std::string(id));
  out.add_instructions()->mutable_say()->set_text(std::string(text));
  out.add_instructions()->mutable_hangup();
  return out;
}

// The answer for a call whose state did not change.
cv1::CallInstructions CurrentSet(const v1::CallState& state) {
  if (state.phase() == v1::PHASE_ENDED) return cv1::CallInstructions();
  return state.last_instructions();
}

// The answer to the carrier: a set the event produced (or a goodbye), or the call's current set
// replayed for an event that changed nothing.
v1::HandleCallEventResponse Fresh(cv1::CallInstructions set) {
  v1::HandleCallEventResponse out;
  *out.mutable_instructions() = std::move(set);
  return out;
}
v1::HandleCallEventResponse Replayed(const v1::CallState& state) {
  v1::HandleCallEventResponse out = Fresh(CurrentSet(state));
  out.set_replayed(true);
  return out;
}

std::string SanitizeId(absl::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
  }
  return out.substr(0, 60);
}

}  // namespace

bool RequiresAllPartyConsent(absl::string_view state) {
  static const char* const kStates[] = {"CA", "CT", "DE", "FL", "IL", "MD", "MA",
                                        "MI", "MT", "NV", "NH", "PA", "WA"};
  const std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(state));
  for (const char* s : kStates) {
    if (upper == s) return true;
  }
  return false;
}

void RoutingCore::ApplyRecording(const CompanySnapshot& snap, bool first_set, Step* step) {
  const v1::RecordingMode mode = snap.config.recording.mode();
  // ALL records every call, INBOUND_ONLY every call but click-to-calls; ON_DEMAND records when
  // asked (StartCallRecording), so its inbound calls hear the consent announcement too.
  if (mode != v1::RECORDING_ALL && mode != v1::RECORDING_INBOUND_ONLY &&
      mode != v1::RECORDING_ON_DEMAND) {
    return;
  }
  if (mode != v1::RECORDING_ALL && step->state.outbound()) return;
  const bool record_dials = mode != v1::RECORDING_ON_DEMAND;
  auto apply = [&](cv1::CallInstructions* set) {
    for (cv1::Instruction& i : *set->mutable_instructions()) {
      const bool conference = i.has_dial() && i.dial().targets_size() > 0 &&
                              i.dial().targets(0).has_conference();
      if (record_dials && i.has_dial() && !conference) i.mutable_dial()->set_record(true);
    }
    if (first_set && RequiresAllPartyConsent(snap.state) && !set->instructions().empty()) {
      cv1::Instruction say;
      const std::string& text = snap.config.recording.consent_announcement();
      say.mutable_say()->set_text(text.empty() ? kDefaultConsentAnnouncement : text);
      set->mutable_instructions()->Add(std::move(say));
      // Move it to the front.
      for (int k = set->instructions_size() - 1; k > 0; --k) {
        set->mutable_instructions()->SwapElements(k, k - 1);
      }
    }
  };
  const bool same = step->state.last_instructions().id() == step->instructions.id();
  apply(&step->instructions);
  if (same) *step->state.mutable_last_instructions() = step->instructions;
}

std::string CallKeyOf(const cv1::CarrierEvent& event) {
  const cv1::ProviderIds& ids = event.ids();
  if (event.provider() == cv1::TELNYX ||
      (!ids.call_session_id().empty() && ids.call_sid().empty())) {
    if (!ids.call_session_id().empty()) return ids.call_session_id();
    return ids.call_control_id();
  }
  if (!ids.parent_call_sid().empty()) return ids.parent_call_sid();
  if (!ids.call_sid().empty()) return ids.call_sid();
  if (!ids.call_session_id().empty()) return ids.call_session_id();
  return ids.call_control_id();
}

RoutingCore::RoutingCore(PgStore& store, CallStateCache& calls, cache::RedisPool& rr_redis,
                         NumberResolver& numbers, DirectoryCache& directory, ConfigCache& config,
                         const Clock& clock, RoutingCoreOptions options)
    : store_(store),
      calls_(calls),
      rr_redis_(rr_redis),
      numbers_(numbers),
      directory_(directory),
      config_(config),
      clock_(clock),
      options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    event_seconds_ = &options_.metrics->GetHistogram(
        "routing_call_event_seconds", "HandleCallEvent time, Redis and Postgres included.",
        metrics::DefaultLatencyBuckets());
    recovered_ = &options_.metrics->GetCounter(
        "routing_call_state_recovered_total",
        "Live calls whose state was missing in Redis and read from the call log.");
    for (const char* outcome : {"applied", "unchanged", "new_call", "unknown_call",
                                "not_in_service", "unrouted", "stale", "error"}) {
      outcomes_[outcome] = &options_.metrics->GetCounter(
          "routing_call_events_total", "Carrier call events handled, by outcome.",
          {{"outcome", outcome}});
    }
  }
}

void RoutingCore::Count(absl::string_view outcome) {
  auto it = outcomes_.find(outcome);
  if (it != outcomes_.end()) it->second->Inc();
}

void RoutingCore::Invalidate(const std::string& company_id) {
  config_.Invalidate(company_id);
  absl::MutexLock lock(&mu_);
  for (auto it = latest_.begin(); it != latest_.end();) {
    if (absl::StartsWith(it->first, absl::StrCat(company_id, "/"))) {
      latest_.erase(it++);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<std::shared_ptr<const v1::Flow>> RoutingCore::LoadFlow(
    const std::string& company_id, const std::string& flow_id, int64_t version) {
  const absl::Time now = clock_.Now();
  const std::string latest_key = absl::StrCat(company_id, "/", flow_id);
  {
    absl::MutexLock lock(&mu_);
    if (version > 0) {
      auto it = versions_.find(absl::StrCat(latest_key, "/", version));
      if (it != versions_.end()) return it->second;
    } else {
      auto it = latest_.find(latest_key);
      if (it != latest_.end()) {
        // Fresh, or expired while another call reloads it: no herd of reloads at each expiry.
        if (now - it->second.loaded_at < options_.flow_cache_ttl || it->second.refreshing) {
          return it->second.flow;
        }
        it->second.refreshing = true;
      }
    }
  }
  absl::StatusOr<v1::Flow> loaded = store_.GetFlow(company_id, flow_id, version);
  if (!loaded.ok()) {
    absl::MutexLock lock(&mu_);
    if (auto it = latest_.find(latest_key); version == 0 && it != latest_.end()) {
      it->second.refreshing = false;
    }
    return loaded.status();
  }
  v1::Flow flow = std::move(*loaded);
  auto shared = std::make_shared<const v1::Flow>(std::move(flow));
  absl::MutexLock lock(&mu_);
  if (versions_.size() >= 10000) versions_.clear();
  versions_[absl::StrCat(latest_key, "/", shared->version())] = shared;
  if (version == 0) latest_[latest_key] = LatestFlow{shared, now};
  return shared;
}

absl::StatusOr<v1::FlowBundle> RoutingCore::BundleFor(const CompanySnapshot& snap,
                                                      const v1::Flow& flow) {
  v1::FlowBundle b;
  *b.mutable_flow() = flow;
  for (const v1::RingGroup& g : snap.config.ring_groups) *b.add_ring_groups() = g;
  for (const v1::VoicemailBox& x : snap.config.voicemail_boxes) *b.add_voicemail_boxes() = x;
  return b;
}

absl::StatusOr<ValidationContext> RoutingCore::ContextFor(const std::string& company_id,
                                                          const CompanySnapshot& snap) {
  ValidationContext c;
  absl::StatusOr<std::shared_ptr<const UserList>> users = directory_.Get(company_id);
  if (!users.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the company's users cannot be read to validate: ", users.status().message()));
  }
  for (const DirectoryUser& u : **users) c.user_ids.insert(u.id);
  for (const v1::NamedSchedule& s : snap.config.schedules) c.schedule_ids.insert(s.id());
  for (const v1::NamedRotation& r : snap.config.rotations) c.rotation_ids.insert(r.id());
  return c;
}

// ---- flows ------------------------------------------------------------------------------------

absl::StatusOr<v1::Flow> RoutingCore::SaveFlow(const P& p, const v1::SaveFlowRequest& req) {
  RETURN_IF_ERROR(RequireManager(p));
  if (!req.has_flow()) return absl::InvalidArgumentError("flow: required");
  if (req.expected_version() < 0) {
    return absl::InvalidArgumentError("expected_version: must not be negative");
  }
  const absl::Time now = clock_.Now();
  v1::Flow flow = req.flow();
  ASSIGN_OR_RETURN(std::string id, IdOrNew("flow.id", flow.id(), now));
  flow.set_id(id);
  flow.set_company_id(p.company_id);
  flow.set_created_by(p.user_id);
  flow.set_version(0);
  config_.Invalidate(p.company_id);
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  ASSIGN_OR_RETURN(v1::FlowBundle bundle, BundleFor(*snap, flow));
  ASSIGN_OR_RETURN(ValidationContext context, ContextFor(p.company_id, *snap));
  RETURN_IF_ERROR(ProblemsStatus(routing::ValidateFlow(bundle, context)));
  ASSIGN_OR_RETURN(v1::Flow saved,
                   store_.SaveFlow(p.company_id, flow, req.expected_version(), now));
  Invalidate(p.company_id);
  return saved;
}

absl::StatusOr<v1::Flow> RoutingCore::GetFlow(const P& p, const v1::GetFlowRequest& req) {
  RETURN_IF_ERROR(RequireViewer(p));
  if (req.flow_id().empty()) return absl::InvalidArgumentError("flow_id: required");
  return store_.GetFlow(p.company_id, req.flow_id(), req.version());
}

absl::StatusOr<v1::ListFlowsResponse> RoutingCore::ListFlows(const P& p,
                                                             const v1::ListFlowsRequest& req) {
  RETURN_IF_ERROR(RequireViewer(p));
  const int size = PageSize(req.page_size());
  ASSIGN_OR_RETURN(std::vector<v1::Flow> flows,
                   store_.ListFlows(p.company_id, Page{size + 1, req.page_token()}));
  v1::ListFlowsResponse out;
  for (int i = 0; i < static_cast<int>(flows.size()) && i < size; ++i) {
    *out.add_flows() = std::move(flows[i]);
  }
  if (static_cast<int>(flows.size()) > size) out.set_next_page_token(out.flows(size - 1).id());
  return out;
}

absl::StatusOr<v1::ListFlowVersionsResponse> RoutingCore::ListFlowVersions(
    const P& p, const v1::ListFlowVersionsRequest& req) {
  RETURN_IF_ERROR(RequireViewer(p));
  if (req.flow_id().empty()) return absl::InvalidArgumentError("flow_id: required");
  int64_t before = 0;
  if (!req.page_token().empty() && (!absl::SimpleAtoi(req.page_token(), &before) || before <= 0)) {
    return absl::InvalidArgumentError("page_token: not a token ListFlowVersions returned");
  }
  const int size = PageSize(req.page_size());
  ASSIGN_OR_RETURN(auto versions,
                   store_.ListFlowVersions(p.company_id, req.flow_id(), size + 1, before));
  v1::ListFlowVersionsResponse out;
  for (int i = 0; i < static_cast<int>(versions.size()) && i < size; ++i) {
    *out.add_versions() = std::move(versions[i]);
  }
  if (static_cast<int>(versions.size()) > size) {
    out.set_next_page_token(absl::StrCat(out.versions(size - 1).version()));
  }
  return out;
}

absl::StatusOr<v1::ValidateFlowResponse> RoutingCore::ValidateFlow(
    const P& p, const v1::ValidateFlowRequest& req) {
  RETURN_IF_ERROR(RequireManager(p));
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  v1::FlowBundle bundle = req.bundle();
  bundle.mutable_flow()->set_company_id(p.company_id);
  if (bundle.flow().id().empty()) bundle.mutable_flow()->set_id("draft");
  if (bundle.ring_groups().empty()) {
    for (const v1::RingGroup& g : snap->config.ring_groups) *bundle.add_ring_groups() = g;
  }
  if (bundle.voicemail_boxes().empty()) {
    for (const v1::VoicemailBox& b : snap->config.voicemail_boxes) {
      *bundle.add_voicemail_boxes() = b;
    }
  }
  ASSIGN_OR_RETURN(ValidationContext context, ContextFor(p.company_id, *snap));
  v1::ValidateFlowResponse out;
  for (const ValidationProblem& problem : routing::ValidateFlow(bundle, context)) {
    v1::ValidationProblem* vp = out.add_problems();
    vp->set_path(problem.path);
    vp->set_message(problem.message);
  }
  out.set_valid(out.problems().empty());
  return out;
}

// ---- entities ---------------------------------------------------------------------------------

absl::Status RoutingCore::SaveEntity(const P& p, EntityKind kind, const std::string& id,
                                     const std::string& name,
                                     const google::protobuf::Message& body) {
  RETURN_IF_ERROR(store_.PutEntity(kind, p.company_id,
                                   StoredEntity{id, name, body.SerializeAsString()},
                                   clock_.Now()));
  Invalidate(p.company_id);
  return absl::OkStatus();
}

template <typename Msg>
static absl::StatusOr<Msg> ParseEntity(const StoredEntity& e) {
  Msg m;
  if (!m.ParseFromString(e.body)) return absl::DataLossError("stored entity cannot be parsed");
  return m;
}

// Get and List of one kind of stored entity (ring groups, boxes, schedules, rotations): any
// member of the company may read them.
template <typename Msg>
static absl::StatusOr<Msg> GetEntityOf(PgStore& store, EntityKind kind, const rpc::Principal& p,
                                       const std::string& id) {
  RETURN_IF_ERROR(RequireViewer(p));
  if (id.empty()) return absl::InvalidArgumentError("id: required");
  ASSIGN_OR_RETURN(StoredEntity e, store.GetEntity(kind, p.company_id, id));
  return ParseEntity<Msg>(e);
}

template <typename Msg, typename Response>
static absl::StatusOr<Response> ListEntitiesOf(
    PgStore& store, EntityKind kind, const rpc::Principal& p, const v1::ListRequest& r,
    google::protobuf::RepeatedPtrField<Msg>* (Response::*items)()) {
  RETURN_IF_ERROR(RequireViewer(p));
  const int size = PageSize(r.page_size());
  ASSIGN_OR_RETURN(auto rows,
                   store.ListEntities(kind, p.company_id, Page{size + 1, r.page_token()}));
  Response out;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    ASSIGN_OR_RETURN(*(out.*items)()->Add(), ParseEntity<Msg>(rows[i]));
  }
  if (static_cast<int>(rows.size()) > size) out.set_next_page_token(rows[size - 1].id);
  return out;
}

absl::StatusOr<v1::RingGroup> RoutingCore::SaveRingGroup(const P& p, v1::RingGroup group) {
  RETURN_IF_ERROR(RequireManager(p));
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::string id, IdOrNew("id", group.id(), now));
  group.set_id(id);
  group.set_company_id(p.company_id);
  if (group.name().empty()) return absl::InvalidArgumentError("name: required");
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  ASSIGN_OR_RETURN(ValidationContext context, ContextFor(p.company_id, *snap));
  std::vector<ValidationProblem> problems;
  ValidateRingGroup(group, context, "ring_group", nullptr, &problems);
  RETURN_IF_ERROR(ProblemsStatus(problems));
  RETURN_IF_ERROR(SaveEntity(p, EntityKind::kRingGroup, id, group.name(), group));
  return group;
}

absl::StatusOr<v1::RingGroup> RoutingCore::GetRingGroup(const P& p, const std::string& id) {
  return GetEntityOf<v1::RingGroup>(store_, EntityKind::kRingGroup, p, id);
}

absl::StatusOr<v1::ListRingGroupsResponse> RoutingCore::ListRingGroups(const P& p,
                                                                       const v1::ListRequest& r) {
  return ListEntitiesOf(store_, EntityKind::kRingGroup, p, r,
                        &v1::ListRingGroupsResponse::mutable_ring_groups);
}

absl::Status RoutingCore::DeleteRingGroup(const P& p, const std::string& id) {
  RETURN_IF_ERROR(RequireManager(p));
  if (id.empty()) return absl::InvalidArgumentError("id: required");
  RETURN_IF_ERROR(store_.GetEntity(EntityKind::kRingGroup, p.company_id, id).status());
  ASSIGN_OR_RETURN(std::vector<v1::Flow> flows, store_.ListFlows(p.company_id, Page{100000, ""}));
  for (const v1::Flow& f : flows) {
    if (FlowUses(f, id, "")) {
      return absl::FailedPreconditionError(
          absl::StrCat("ring group ", id, " is used by flow ", f.id()));
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  for (const v1::RingGroup& g : snap->config.ring_groups) {
    if (g.id() != id && g.has_on_no_answer() && FallbackUses(g.on_no_answer(), id, "")) {
      return absl::FailedPreconditionError(
          absl::StrCat("ring group ", id, " is the no-answer fallback of ring group ", g.id()));
    }
  }
  RETURN_IF_ERROR(store_.DeleteEntity(EntityKind::kRingGroup, p.company_id, id));
  Invalidate(p.company_id);
  return absl::OkStatus();
}

absl::StatusOr<v1::VoicemailBox> RoutingCore::SaveVoicemailBox(const P& p, v1::VoicemailBox box) {
  RETURN_IF_ERROR(RequireManager(p));
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::string id, IdOrNew("id", box.id(), now));
  box.set_id(id);
  box.set_company_id(p.company_id);
  if (box.name().empty()) return absl::InvalidArgumentError("name: required");
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  ASSIGN_OR_RETURN(ValidationContext context, ContextFor(p.company_id, *snap));
  std::vector<ValidationProblem> problems;
  ValidateVoicemailBox(box, context, "voicemail_box", &problems);
  RETURN_IF_ERROR(ProblemsStatus(problems));
  RETURN_IF_ERROR(SaveEntity(p, EntityKind::kVoicemailBox, id, box.name(), box));
  return box;
}

absl::StatusOr<v1::VoicemailBox> RoutingCore::GetVoicemailBox(const P& p, const std::string& id) {
  return GetEntityOf<v1::VoicemailBox>(store_, EntityKind::kVoicemailBox, p, id);
}

absl::StatusOr<v1::ListVoicemailBoxesResponse> RoutingCore::ListVoicemailBoxes(
    const P& p, const v1::ListRequest& r) {
  return ListEntitiesOf(store_, EntityKind::kVoicemailBox, p, r,
                        &v1::ListVoicemailBoxesResponse::mutable_voicemail_boxes);
}

absl::Status RoutingCore::DeleteVoicemailBox(const P& p, const std::string& id) {
  RETURN_IF_ERROR(RequireManager(p));
  if (id.empty()) return absl::InvalidArgumentError("id: required");
  RETURN_IF_ERROR(store_.GetEntity(EntityKind::kVoicemailBox, p.company_id, id).status());
  ASSIGN_OR_RETURN(std::vector<v1::Flow> flows, store_.ListFlows(p.company_id, Page{100000, ""}));
  for (const v1::Flow& f : flows) {
    if (FlowUses(f, "", id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("voicemail box ", id, " is used by flow ", f.id()));
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  for (const v1::RingGroup& g : snap->config.ring_groups) {
    if (g.has_on_no_answer() && FallbackUses(g.on_no_answer(), "", id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("voicemail box ", id, " is the no-answer fallback of ring group ", g.id()));
    }
  }
  RETURN_IF_ERROR(store_.DeleteEntity(EntityKind::kVoicemailBox, p.company_id, id));
  Invalidate(p.company_id);
  return absl::OkStatus();
}

absl::StatusOr<v1::NamedSchedule> RoutingCore::SaveSchedule(const P& p, v1::NamedSchedule s) {
  RETURN_IF_ERROR(RequireManager(p));
  ASSIGN_OR_RETURN(std::string id, IdOrNew("id", s.id(), clock_.Now()));
  s.set_id(id);
  s.set_company_id(p.company_id);
  if (s.name().empty()) return absl::InvalidArgumentError("name: required");
  RETURN_IF_ERROR(ScheduleProblemsStatus(ValidateSchedule(s.schedule(), "schedule")));
  RETURN_IF_ERROR(SaveEntity(p, EntityKind::kSchedule, id, s.name(), s));
  return s;
}

absl::StatusOr<v1::NamedSchedule> RoutingCore::GetSchedule(const P& p, const std::string& id) {
  return GetEntityOf<v1::NamedSchedule>(store_, EntityKind::kSchedule, p, id);
}

absl::StatusOr<v1::ListSchedulesResponse> RoutingCore::ListSchedules(const P& p,
                                                                     const v1::ListRequest& r) {
  return ListEntitiesOf(store_, EntityKind::kSchedule, p, r,
                        &v1::ListSchedulesResponse::mutable_schedules);
}

absl::StatusOr<v1::CheckScheduleResponse> RoutingCore::CheckSchedule(
    const P& p, const v1::CheckScheduleRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (req.schedule_id().empty()) return absl::InvalidArgumentError("schedule_id: required");
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  SnapshotScheduleOracle oracle(snap);
  ASSIGN_OR_RETURN(ScheduleAnswer a,
                   oracle.At(req.schedule_id(), TimeOr(req.at(), req.has_at(), clock_.Now())));
  v1::CheckScheduleResponse out;
  out.set_open(a.open);
  out.set_reason(a.reason);
  out.set_detail(a.detail);
  return out;
}

absl::StatusOr<v1::NamedRotation> RoutingCore::SaveOnCallRotation(const P& p, v1::NamedRotation r) {
  RETURN_IF_ERROR(RequireManager(p));
  ASSIGN_OR_RETURN(std::string id, IdOrNew("id", r.id(), clock_.Now()));
  r.set_id(id);
  r.set_company_id(p.company_id);
  if (r.name().empty()) return absl::InvalidArgumentError("name: required");
  RETURN_IF_ERROR(ScheduleProblemsStatus(ValidateRotation(r.rotation(), "rotation")));
  ASSIGN_OR_RETURN(std::shared_ptr<const UserList> users, directory_.Get(p.company_id));
  std::vector<ValidationProblem> problems;
  for (int i = 0; i < r.rotation().user_ids_size(); ++i) {
    const std::string& uid = r.rotation().user_ids(i);
    if (std::none_of(users->begin(), users->end(),
                     [&](const DirectoryUser& u) { return u.id == uid; })) {
      problems.push_back({absl::StrCat("rotation.user_ids[", i, "]"), "unknown user " + uid});
    }
  }
  RETURN_IF_ERROR(ProblemsStatus(problems));
  RETURN_IF_ERROR(SaveEntity(p, EntityKind::kRotation, id, r.name(), r));
  return r;
}

absl::StatusOr<v1::NamedRotation> RoutingCore::GetOnCallRotation(const P& p,
                                                                 const std::string& id) {
  return GetEntityOf<v1::NamedRotation>(store_, EntityKind::kRotation, p, id);
}

absl::StatusOr<v1::ListOnCallRotationsResponse> RoutingCore::ListOnCallRotations(
    const P& p, const v1::ListRequest& r) {
  return ListEntitiesOf(store_, EntityKind::kRotation, p, r,
                        &v1::ListOnCallRotationsResponse::mutable_rotations);
}

absl::StatusOr<v1::WhoIsOnCallResponse> RoutingCore::WhoIsOnCall(
    const P& p, const v1::WhoIsOnCallRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (req.rotation_id().empty()) return absl::InvalidArgumentError("rotation_id: required");
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  SnapshotScheduleOracle oracle(snap);
  ASSIGN_OR_RETURN(std::string user,
                   oracle.OnCall(req.rotation_id(), TimeOr(req.at(), req.has_at(), clock_.Now())));
  v1::WhoIsOnCallResponse out;
  out.set_user_id(user);
  return out;
}

// ---- dry run ------------------------------------------------------------------------------------

absl::StatusOr<v1::SimulateCallResponse> RoutingCore::SimulateCall(
    const P& p, const v1::SimulateCallRequest& req) {
  RETURN_IF_ERROR(RequireManager(p));
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  v1::FlowBundle bundle;
  std::string to;
  if (req.subject_case() == v1::SimulateCallRequest::kNumber) {
    absl::StatusOr<ResolvedLine> line = numbers_.Resolve(req.number());
    if (!line.ok() || line->company_id != p.company_id) {
      if (line.ok() || line.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat("number ", req.number(), " not found"));
      }
      return line.status();
    }
    v1::CallState probe;
    if (line->flow_id.empty()) {
      probe.set_flow_id(absl::StrCat(kLinePrefix, line->line_id, ":", line->assigned_user_id));
    } else {
      probe.set_flow_id(line->flow_id);
    }
    ASSIGN_OR_RETURN(bundle, BundleForCall(*snap, probe, line->line_id, line->assigned_user_id));
    to = req.number();
  } else if (req.subject_case() == v1::SimulateCallRequest::kBundle) {
    bundle = req.bundle();
    bundle.mutable_flow()->set_company_id(p.company_id);
    if (bundle.flow().id().empty()) bundle.mutable_flow()->set_id("draft");
    if (bundle.ring_groups().empty()) {
      for (const v1::RingGroup& g : snap->config.ring_groups) *bundle.add_ring_groups() = g;
    }
    if (bundle.voicemail_boxes().empty()) {
      for (const v1::VoicemailBox& b : snap->config.voicemail_boxes) {
        *bundle.add_voicemail_boxes() = b;
      }
    }
  } else {
    return absl::InvalidArgumentError("subject: number or bundle required");
  }
  absl::StatusOr<std::shared_ptr<const UserList>> users = directory_.Get(p.company_id);
  CallDirectory directory(users.ok() ? *users : nullptr,
                          {bundle.voicemail_boxes().begin(), bundle.voicemail_boxes().end()});
  SnapshotScheduleOracle oracle(snap);
  InMemoryRoundRobin rr;
  NoCallerMatcher callers;
  CompanyGreetingUrls greetings(options_.greeting_urls, p.company_id);
  SimulationInput in;
  in.company_id = p.company_id;
  in.from = req.from();
  in.to = to;
  in.at = TimeOr(req.at(), req.has_at(), clock_.Now());
  in.key_presses.assign(req.key_presses().begin(), req.key_presses().end());
  for (const v1::SimulatedAnswer& a : req.answers()) {
    if (a.target().empty()) return absl::InvalidArgumentError("answers.target: required");
    SimulatedOutcome o = SimulatedOutcome::kNoAnswer;
    if (a.outcome() == v1::SimulatedAnswer::ANSWER) o = SimulatedOutcome::kAnswer;
    if (a.outcome() == v1::SimulatedAnswer::BUSY) o = SimulatedOutcome::kBusy;
    in.answers[a.target()] = o;
  }
  in.leave_voicemail = req.leave_voicemail();
  ASSIGN_OR_RETURN(SimulationResult r,
                   routing::SimulateCall(bundle, EngineDeps{directory, oracle, rr, callers,
                                                            greetings},
                                         in));
  v1::SimulateCallResponse out;
  for (auto& e : r.path) *out.add_path() = std::move(e);
  out.set_status(r.status);
  out.set_answered_by(r.answered_by);
  for (auto& i : r.instructions) *out.add_instructions() = std::move(i);
  for (auto& s : r.rang) out.add_rang(std::move(s));
  return out;
}

// ---- live calls ---------------------------------------------------------------------------------

absl::StatusOr<v1::FlowBundle> RoutingCore::BundleForCall(const CompanySnapshot& snap,
                                                          const v1::CallState& state,
                                                          const std::string& line_id,
                                                          const std::string& assigned_user) {
  if (state.flow_id() == kOutboundFlowId) {
    // A click-to-call: no menus; the company's groups and boxes (transfer targets).
    v1::Flow flow;
    flow.set_id(kOutboundFlowId);
    flow.set_company_id(snap.company_id);
    flow.set_version(1);
    flow.set_name("click-to-call");
    for (const v1::VoicemailBox& b : snap.config.voicemail_boxes) {
      if (b.owner_case() == v1::VoicemailBox::kDepartment && b.department().empty()) {
        flow.set_default_voicemail_box_id(b.id());
        break;
      }
    }
    return BundleFor(snap, flow);
  }
  if (absl::StartsWith(state.flow_id(), kLinePrefix)) {
    // A line without a flow: ring its user, then the user's box (else the company box).
    std::vector<std::string> parts = absl::StrSplit(state.flow_id(), ':');
    const std::string user = parts.size() >= 3 ? parts[2] : assigned_user;
    v1::Flow flow;
    flow.set_id(state.flow_id());
    flow.set_company_id(snap.company_id);
    flow.set_version(1);
    flow.set_name(absl::StrCat("direct line ", line_id));
    for (const v1::VoicemailBox& b : snap.config.voicemail_boxes) {
      if (b.owner_case() == v1::VoicemailBox::kDepartment && b.department().empty()) {
        flow.set_default_voicemail_box_id(b.id());
        break;
      }
    }
    flow.mutable_direct_line()->set_user_id(user);
    return BundleFor(snap, flow);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const v1::Flow> flow,
                   LoadFlow(snap.company_id, state.flow_id(), state.flow_version()));
  return BundleFor(snap, *flow);
}

void RoutingCore::FillWrite(const Step& step, absl::Time now, const std::string& call_id,
                            const std::string& key, CallWrite* w) {
  const std::string& company = step.state.company_id();
  auto event = [&](absl::string_view type) {
    return events::NewEvent(absl::StrCat("calls.", type), company, call_id,
                            options_.events_source, clock_);
  };
  for (const v1::PathEntry& e : step.path) {
    w->path.push_back(e);
    for (const std::string& u : e.user_ids()) w->user_ids.push_back(u);
  }
  for (const LifecycleEvent& le : step.events) {
    for (const std::string& u : le.user_ids) w->user_ids.push_back(u);
    switch (le.kind) {
      case LifecycleKind::kRouted: {
        ev1::Event e = event("call_routed");
        auto* m = e.mutable_call_routed();
        m->set_call_id(call_id);
        m->set_call_key(key);
        m->set_detail(le.detail);
        w->events.push_back(std::move(e));
        break;
      }
      case LifecycleKind::kRinging: {
        ev1::Event e = event("call_ringing");
        auto* m = e.mutable_call_ringing();
        m->set_call_id(call_id);
        m->set_call_key(key);
        for (const auto& u : le.user_ids) m->add_user_ids(u);
        m->set_detail(le.detail);
        w->events.push_back(std::move(e));
        break;
      }
      case LifecycleKind::kAnswered: {
        ev1::Event e = event("call_answered");
        auto* m = e.mutable_call_answered();
        m->set_call_id(call_id);
        m->set_call_key(key);
        m->set_answered_by(!le.user_ids.empty() ? le.user_ids[0] : step.state.answered_by());
        m->set_detail(le.detail);
        w->answered_by = m->answered_by();  // a live call's row names who is on it
        w->answered_at = now - absl::Seconds(le.duration_s);
        w->events.push_back(std::move(e));
        break;
      }
      case LifecycleKind::kMissed: {
        ev1::Event e = event("call_missed");
        auto* m = e.mutable_call_missed();
        m->set_call_id(call_id);
        m->set_call_key(key);
        for (const auto& u : le.user_ids) m->add_user_ids(u);
        m->set_detail(le.detail);
        w->events.push_back(std::move(e));
        break;
      }
      case LifecycleKind::kVoicemailLeft: {
        ev1::Event e = event("voicemail_left");
        auto* m = e.mutable_voicemail_left();
        m->set_call_id(call_id);
        m->set_call_key(key);
        m->set_voicemail_box_id(le.voicemail_box_id);
        if (le.box_owner_user_id.has_value()) m->set_box_owner_user_id(*le.box_owner_user_id);
        m->set_recording_id(le.recording_id);
        m->set_recording_url(le.recording_url);
        m->set_duration_s(le.duration_s);
        m->set_from(step.state.from());
        w->recording_id = le.recording_id;
        w->recording_url = le.recording_url;
        w->voicemail_box_id = le.voicemail_box_id;
        w->events.push_back(std::move(e));
        break;
      }
      case LifecycleKind::kEnded: {
        ev1::Event e = event("call_ended");
        auto* m = e.mutable_call_ended();
        m->set_call_id(call_id);
        m->set_call_key(key);
        m->set_status(StatusName(step.final_status.value_or(step.state.status())));
        m->set_answered_by(step.answered_by);
        m->set_duration_s(le.duration_s);
        w->ended_at = now;
        w->duration_s = le.duration_s;
        w->events.push_back(std::move(e));
        break;
      }
    }
  }
  if (!step.recording_id.empty()) {
    w->recording_id = step.recording_id;
    w->recording_url = step.recording_url;
  }
  if (step.final_status.has_value()) w->status = StatusName(*step.final_status);
  if (!step.answered_by.empty()) w->answered_by = step.answered_by;
  std::sort(w->user_ids.begin(), w->user_ids.end());
  w->user_ids.erase(std::unique(w->user_ids.begin(), w->user_ids.end()), w->user_ids.end());
  w->user_ids.erase(std::remove(w->user_ids.begin(), w->user_ids.end(), ""), w->user_ids.end());
}

struct RoutingCore::Live {
  std::shared_ptr<const CompanySnapshot> snap;
  CallDirectory directory;
  SnapshotScheduleOracle oracle;
  RedisRoundRobin rr;
  NoCallerMatcher callers;
  CompanyGreetingUrls greetings;

  Live(RoutingCore& core, std::shared_ptr<const CompanySnapshot> s, const v1::FlowBundle& bundle)
      : snap(s),
        directory(
            [&]() -> std::shared_ptr<const UserList> {
              auto users = core.directory_.Get(s->company_id);
              if (!users.ok()) {
                log::Warn("directory unavailable for a live call",
                          {{"company_id", s->company_id},
                           {"error", std::string(users.status().message())}});
                return nullptr;
              }
              return *users;
            }(),
            {bundle.voicemail_boxes().begin(), bundle.voicemail_boxes().end()}),
        oracle(s),
        rr(core.rr_redis_, s->company_id),
        greetings(core.options_.greeting_urls, s->company_id) {}
  EngineDeps deps() { return EngineDeps{directory, oracle, rr, callers, greetings}; }
};

absl::StatusOr<v1::HandleCallEventResponse> RoutingCore::HandleCallEvent(
    const P& p, const v1::HandleCallEventRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (!IsService(p)) return absl::PermissionDeniedError("HandleCallEvent is for role service");
  if (!req.has_event()) return absl::InvalidArgumentError("event: required");
  const cv1::CarrierEvent& event = req.event();
  std::string key;
  if (event.has_conference_update()) {
    // A conference's participant: the call is found by the conference's name, "sb-<call id>".
    const std::string& name = event.conference_update().conference();
    absl::StatusOr<StoredCall> owner =
        absl::StartsWith(name, "sb-")
            ? store_.LoadCallById(p.company_id, name.substr(3))
            : absl::StatusOr<StoredCall>(absl::NotFoundError("not a call's conference"));
    if (!owner.ok()) {
      if (!absl::IsNotFound(owner.status())) return owner.status();
      Count("unknown_call");
      return Fresh(cv1::CallInstructions());
    }
    key = owner->call_key;
  } else {
    key = CallKeyOf(event);
  }
  if (key.empty()) return absl::InvalidArgumentError("event.ids: no call id (CallSid / call_session_id)");
  const absl::Time now = clock_.Now();
  const absl::Time started = absl::Now();
  struct Timer {
    metrics::Histogram* h;
    absl::Time t0;
    ~Timer() {
      if (h != nullptr) h->Observe(absl::ToDoubleSeconds(absl::Now() - t0));
    }
  } timer{event_seconds_, started};
  std::optional<CachedCall> call = calls_.Get(key);
  // A CallIncoming that Redis does not know is almost always a new call: create it without
  // asking Postgres first. A redelivered one (or one whose state Redis lost) collides with the
  // stored call on its unique call key, and StartCall then answers from what Postgres has.
  const bool incoming = event.kind_case() == cv1::CarrierEvent::kCallIncoming;
  if (!call.has_value() && !incoming) {
    absl::StatusOr<std::optional<StoredCall>> stored = store_.LoadCall(key);
    if (!stored.ok()) {
      Count("error");
      return stored.status();
    }
    if (stored->has_value()) {
      if (recovered_ != nullptr) recovered_->Inc();
      call = CachedCall{(*stored)->id, (*stored)->line_id, std::move((*stored)->state)};
    }
  }
  if (!call.has_value() && absl::StartsWith(event.client_state(), kPlacedCallTag)) {
    // A click-to-call's first webhook, maybe before PlaceCall returned: the call is stored
    // under its pending key; move it to the carrier's key.
    const std::string id = event.client_state().substr(sizeof(kPlacedCallTag) - 1);
    if (IsUuid(id)) {
      absl::StatusOr<StoredCall> bound =
          store_.BindCallKey(p.company_id, id, absl::StrCat(kPendingKeyPrefix, id), key);
      if (bound.ok()) {
        call = CachedCall{bound->id, bound->line_id, std::move(bound->state)};
      } else if (!absl::IsNotFound(bound.status()) &&
                 !absl::IsFailedPrecondition(bound.status())) {
        Count("error");
        return bound.status();
      }
    }
  }
  if (call.has_value()) {
    auto out = ContinueCall(key, std::move(*call), event, now, req.current_instructions_id());
    if (!out.ok()) Count("error");
    return out;
  }
  if (incoming) {
    auto out = StartCall(key, event, now);
    if (!out.ok()) Count("error");
    return out;
  }
  Count("unknown_call");
  switch (event.kind_case()) {
    case cv1::CarrierEvent::kCallCompleted:
    case cv1::CarrierEvent::kRecordingReady:
    case cv1::CarrierEvent::kPromptEnded:
    case cv1::CarrierEvent::kCallAnswered:
      return Fresh(cv1::CallInstructions());
    default:
      log::Warn("event for an unknown call", {{"call_key", key}});
      return Fresh(GoodbyeSet(absl::StrCat(SanitizeId(key), "-unknown"),
                              "Sorry, we cannot take your call right now. Goodbye."));
  }
}

absl::StatusOr<v1::HandleCallEventResponse> RoutingCore::StartCall(const std::string& key,
                                                             const cv1::CarrierEvent& event,
                                                             absl::Time now) {
  absl::StatusOr<ResolvedLine> line = numbers_.Resolve(event.to());
  if (!line.ok()) {
    if (line.status().code() == absl::StatusCode::kNotFound) {
      // Not a line of ours: the carrier answers it (a number's static instructions, else a
      // hang-up), so numbers managed outside routing keep working.
      log::Warn("call to a number that is not an active line", {{"to", event.to()}});
      Count("not_in_service");
      return absl::NotFoundError(absl::StrCat("to: ", event.to(), " is not an active line"));
    }
    return line.status();
  }
  if (line->flow_id.empty() && line->assigned_user_id.empty()) {
    log::Warn("call to a line without a flow or a user",
              {{"company_id", line->company_id}, {"line_id", line->line_id}});
    Count("unrouted");
    return Fresh(GoodbyeSet(absl::StrCat(SanitizeId(key), "-unrouted"),
                            "Sorry, no one is available to take your call. Goodbye."));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(line->company_id));
  v1::CallState probe;
  probe.set_flow_id(line->flow_id.empty()
                        ? absl::StrCat(kLinePrefix, line->line_id, ":", line->assigned_user_id)
                        : line->flow_id);
  absl::StatusOr<v1::FlowBundle> bundle =
      BundleForCall(*snap, probe, line->line_id, line->assigned_user_id);
  if (!bundle.ok() && bundle.status().code() == absl::StatusCode::kNotFound &&
      !line->assigned_user_id.empty()) {
    probe.set_flow_id(absl::StrCat(kLinePrefix, line->line_id, ":", line->assigned_user_id));
    bundle = BundleForCall(*snap, probe, line->line_id, line->assigned_user_id);
  }
  if (!bundle.ok()) return bundle.status();
  Live live(*this, snap, *bundle);
  CallEngine engine(*bundle, live.deps());
  const std::string call_id = NewUuidV7(now);
  ASSIGN_OR_RETURN(Step step, engine.Start(CallFacts{.call_id = call_id,
                                                     .company_id = line->company_id,
                                                     .from = event.from(),
                                                     .to = event.to(),
                                                     .at = now,
                                                     .carrier_call_id =
                                                         !event.ids().call_control_id().empty()
                                                             ? event.ids().call_control_id()
                                                             : event.ids().call_sid()}));
  ApplyRecording(*snap, /*first_set=*/true, &step);
  CallWrite w;
  w.create = true;
  w.id = call_id;
  w.company_id = line->company_id;
  w.call_key = key;
  w.dedupe_key = event.dedupe_key();
  w.state = step.state;
  w.line_id = line->line_id;
  w.started_at = now;
  if (!line->assigned_user_id.empty()) w.user_ids.push_back(line->assigned_user_id);
  ev1::Event started = events::NewEvent("calls.call_started", line->company_id, call_id,
                                        options_.events_source, clock_);
  auto* m = started.mutable_call_started();
  m->set_call_id(call_id);
  m->set_call_key(key);
  m->set_direction("inbound");
  m->set_from(event.from());
  m->set_to(event.to());
  m->set_line_id(line->line_id);
  m->set_flow_id(step.state.flow_id());
  m->set_flow_version(step.state.flow_version());
  w.events.push_back(std::move(started));
  FillWrite(step, now, call_id, key, &w);
  absl::Status s = store_.ApplyCall(w, now);
  if (s.code() == absl::StatusCode::kAborted || s.code() == absl::StatusCode::kAlreadyExists) {
    // The call exists (a redelivered CallIncoming, or Redis lost its state): answer with what
    // Postgres has, and cache it again.
    ASSIGN_OR_RETURN(std::optional<StoredCall> stored, store_.LoadCall(key));
    if (!stored.has_value()) return s;
    if (recovered_ != nullptr) recovered_->Inc();
    (void)calls_.Put(key, CachedCall{stored->id, stored->line_id, stored->state});
    return Replayed(stored->state);
  }
  RETURN_IF_ERROR(s);
  Count("new_call");
  absl::Status cached = calls_.Put(key, CachedCall{call_id, line->line_id, step.state});
  if (!cached.ok()) {
    log::Warn("call state not cached (Postgres has it)",
              {{"call_key", key}, {"error", std::string(cached.message())}});
  }
  return Fresh(std::move(step.instructions));
}

absl::StatusOr<v1::HandleCallEventResponse> RoutingCore::ContinueCall(const std::string& key,
                                                                CachedCall call,
                                                                const cv1::CarrierEvent& event,
                                                                absl::Time now,
                                                                absl::string_view current_set) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (event.kind_case() == cv1::CarrierEvent::kDialResult && !current_set.empty() &&
        current_set != call.state.last_instructions().id()) {
      // The result of a Dial the call no longer runs (e.g. the leg a transfer dropped).
      Count("stale");
      return Replayed(call.state);
    }
    const std::string company = call.state.company_id();
    ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(company));
    absl::StatusOr<v1::FlowBundle> bundle = BundleForCall(*snap, call.state, call.line_id, "");
    if (!bundle.ok()) {
      if (bundle.status().code() != absl::StatusCode::kNotFound) return bundle.status();
      // The flow version vanished (it never should: versions are kept): end gracefully.
      log::Error("flow of a live call not found",
                 {{"call_key", key}, {"flow_id", call.state.flow_id()}});
      return Fresh(GoodbyeSet(absl::StrCat(SanitizeId(key), "-lost"),
                              "Sorry, we cannot take your call right now. Goodbye."));
    }
    Live live(*this, snap, *bundle);
    CallEngine engine(*bundle, live.deps());
    ASSIGN_OR_RETURN(Step step, engine.OnEvent(call.state, event, now));
    if (!step.changed) {
      Count("unchanged");
      return Replayed(call.state);
    }
    ApplyRecording(*snap, /*first_set=*/false, &step);
    CallWrite w;
    w.id = call.call_id;
    w.company_id = company;
    w.call_key = key;
    w.dedupe_key = event.dedupe_key();
    w.expected_seq = call.state.seq();
    w.state = step.state;
    FillWrite(step, now, call.call_id, key, &w);
    absl::Status s = store_.ApplyCall(w, now);
    if (s.ok()) {
      Count("applied");
      absl::Status cached = calls_.Put(key, CachedCall{call.call_id, call.line_id, step.state});
      if (!cached.ok()) {
        log::Warn("call state not cached (Postgres has it)",
                  {{"call_key", key}, {"error", std::string(cached.message())}});
      }
      FollowUp(step);
      return Fresh(std::move(step.instructions));
    }
    if (s.code() != absl::StatusCode::kAborted && s.code() != absl::StatusCode::kAlreadyExists) {
      return s;
    }
    // A duplicate already applied, or another transition won: continue from what Postgres has.
    ASSIGN_OR_RETURN(std::optional<StoredCall> stored, store_.LoadCall(key));
    if (!stored.has_value()) return s;
    call = CachedCall{stored->id, stored->line_id, std::move(stored->state)};
    (void)calls_.Put(key, call);
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      Count("unchanged");
      return Replayed(call.state);
    }
  }
  return absl::AbortedError(absl::StrCat("call ", key, " keeps changing concurrently"));
}

// ---- click-to-call ------------------------------------------------------------------------------

absl::StatusOr<v1::PlaceCallResponse> RoutingCore::PlaceCall(const P& p,
                                                             const v1::PlaceCallRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  const std::string user_id = req.user_id().empty() ? p.user_id : req.user_id();
  if (!IsViewer(p)) {
    if (p.role != "tech") {
      return absl::PermissionDeniedError(
          "placing calls needs the owner, admin, office or tech role");
    }
    if (p.user_id.empty() || user_id != p.user_id) {
      return absl::PermissionDeniedError("user_id: a tech may place calls only as themselves");
    }
  }
  if (user_id.empty()) return absl::InvalidArgumentError("user_id: required");
  if (!IsE164(req.to())) {
    return absl::InvalidArgumentError("to: must be an E.164 number, e.g. +14155550100");
  }
  bool direct = false;
  switch (req.caller_id()) {
    case v1::CALLER_ID_SOURCE_UNSPECIFIED:
    case v1::CALLER_ID_MAIN_LINE:
      break;
    case v1::CALLER_ID_DIRECT_LINE:
      direct = true;
      break;
    default:
      return absl::InvalidArgumentError("caller_id: unknown caller ID source");
  }
  if (options_.call_control == nullptr) {
    return absl::UnavailableError("click-to-call: no carrier is configured");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const UserList> users, directory_.Get(p.company_id));
  const DirectoryUser* user = nullptr;
  for (const DirectoryUser& u : *users) {
    if (u.id == user_id) user = &u;
  }
  if (user == nullptr) return absl::NotFoundError(absl::StrCat("user_id: unknown user ", user_id));
  // The device that rings first: the connected softphone, else the forward-to phone.
  const std::string device = !user->softphone.empty() ? absl::StrCat("client:", user->softphone)
                                                      : user->forward_to;
  if (device.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "user_id: ", user->FullName(), " has no forward-to number and no connected softphone"));
  }
  ASSIGN_OR_RETURN(CallerIdLine line, numbers_.CallerId(p.company_id, user_id, direct));
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  v1::CallState probe;
  probe.set_flow_id(kOutboundFlowId);
  ASSIGN_OR_RETURN(v1::FlowBundle bundle, BundleForCall(*snap, probe, line.line_id, ""));
  Live live(*this, snap, bundle);
  CallEngine engine(bundle, live.deps());
  const absl::Time now = clock_.Now();
  const std::string call_id = NewUuidV7(now);
  ASSIGN_OR_RETURN(Step step, engine.StartOutbound(OutboundFacts{.call_id = call_id,
                                                                 .company_id = p.company_id,
                                                                 .user_id = user_id,
                                                                 .device = device,
                                                                 .to = req.to(),
                                                                 .caller_id = line.e164,
                                                                 .at = now}));
  const std::string pending = absl::StrCat(kPendingKeyPrefix, call_id);
  CallWrite w;
  w.create = true;
  w.id = call_id;
  w.company_id = p.company_id;
  w.call_key = pending;
  w.state = step.state;
  w.direction = "outbound";
  w.line_id = line.line_id;
  w.started_at = now;
  w.user_ids.push_back(user_id);
  ev1::Event started = events::NewEvent("calls.call_started", p.company_id, call_id,
                                        options_.events_source, clock_);
  auto* m = started.mutable_call_started();
  m->set_call_id(call_id);
  m->set_call_key(pending);
  m->set_direction("outbound");
  m->set_from(line.e164);
  m->set_to(req.to());
  m->set_line_id(line.line_id);
  m->set_flow_id(kOutboundFlowId);
  m->set_flow_version(1);
  w.events.push_back(std::move(started));
  FillWrite(step, now, call_id, pending, &w);
  RETURN_IF_ERROR(store_.ApplyCall(w, now));
  absl::StatusOr<PlacedLeg> placed = options_.call_control->PlaceCall(
      p.company_id, line.e164, device, absl::StrCat(kPlacedCallTag, call_id), call_id);
  if (!placed.ok()) {
    // The call never rang: its row ends `failed`.
    log::Warn("click-to-call not placed", {{"company_id", p.company_id},
                                          {"call_id", call_id},
                                          {"error", std::string(placed.status().message())}});
    cv1::CarrierEvent failed;
    failed.set_company_id(p.company_id);
    failed.mutable_call_completed()->set_reason(cv1::CALL_END_FAILED);
    failed.mutable_call_completed()->set_provider_cause("not placed");
    absl::StatusOr<v1::HandleCallEventResponse> ended =
        ContinueCall(pending, CachedCall{call_id, line.line_id, step.state}, failed, clock_.Now());
    if (!ended.ok()) {
      log::Error("failed click-to-call not logged",
                 {{"call_id", call_id}, {"error", std::string(ended.status().message())}});
    }
    return placed.status();
  }
  const std::string key = placed->session_id.empty() ? placed->call_id : placed->session_id;
  absl::StatusOr<StoredCall> bound = store_.BindCallKey(p.company_id, call_id, pending, key);
  if (!bound.ok()) {
    // The call's first webhook binds it as well (it carries the client state).
    log::Warn("click-to-call key not bound yet", {{"call_id", call_id},
                                                 {"error", std::string(bound.status().message())}});
  }
  v1::PlaceCallResponse out;
  out.set_call_id(call_id);
  out.set_caller_id(line.e164);
  out.set_device(device);
  out.set_carrier_call_id(placed->call_id);
  return out;
}

// ---- live call control --------------------------------------------------------------------------

absl::StatusOr<v1::CallRecord> RoutingCore::TransferCall(const P& p,
                                                         const v1::TransferCallRequest& req) {
  TransferTarget target;
  switch (req.target_case()) {
    case v1::TransferCallRequest::kUserId:
      if (req.user_id().empty()) return absl::InvalidArgumentError("user_id: required");
      target.user_id = req.user_id();
      break;
    case v1::TransferCallRequest::kRingGroupId:
      if (req.ring_group_id().empty()) return absl::InvalidArgumentError("ring_group_id: required");
      target.ring_group_id = req.ring_group_id();
      break;
    case v1::TransferCallRequest::kExternalNumber:
      if (!IsE164(req.external_number())) {
        return absl::InvalidArgumentError(
            "external_number: must be an E.164 number, e.g. +14155550100");
      }
      target.external_number = req.external_number();
      break;
    case v1::TransferCallRequest::kVoicemailBoxId:
      if (req.voicemail_box_id().empty()) {
        return absl::InvalidArgumentError("voicemail_box_id: required");
      }
      target.voicemail_box_id = req.voicemail_box_id();
      break;
    case v1::TransferCallRequest::TARGET_NOT_SET:
      return absl::InvalidArgumentError(
          "target: one of user_id, ring_group_id, external_number, voicemail_box_id is required");
  }
  target.ring_seconds = req.ring_seconds();
  target.by_user_id = p.user_id;
  return ControlCall(
      p, req.call_id(), "transfer",
      [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
          absl::Time now) { return engine.Transfer(state, target, now); },
      [&](CallControl& carrier, const v1::CallState& before, const Step& step) {
        return carrier.InstructCall(before.company_id(), before.carrier_call_id(),
                                    step.instructions);
      });
}

absl::StatusOr<v1::CallRecord> RoutingCore::SetCallRecording(const P& p,
                                                             const v1::CallRecordingRequest& req,
                                                             bool on) {
  return ControlCall(
      p, req.call_id(), on ? "recording start" : "recording stop",
      [&](const CallEngine& engine, const CompanySnapshot& snap, const v1::CallState& state,
          absl::Time now) -> absl::StatusOr<Step> {
        if (on && snap.config.recording.mode() != v1::RECORDING_ON_DEMAND) {
          return absl::FailedPreconditionError(
              "call_id: the company's recording policy is not on demand (SetRecordingPolicy)");
        }
        return engine.SetRecording(state, on, p.user_id, now);
      },
      [&](CallControl& carrier, const v1::CallState& before, const Step&) -> absl::Status {
        if (on) return carrier.StartRecording(before.company_id(), before.carrier_call_id()).status();
        return carrier.StopRecording(before.company_id(), before.carrier_call_id());
      });
}

namespace {

cv1::ConferenceControlRequest Conference(const v1::CallState& state,
                                         cv1::ConferenceControlRequest::Action action,
                                         absl::string_view leg = "") {
  cv1::ConferenceControlRequest r;
  r.set_call_id(state.carrier_call_id());
  r.set_conference(state.conference());
  r.set_action(action);
  r.set_leg(std::string(leg));
  r.set_idempotency_key(absl::StrCat(state.call_id(), "-", state.seq(), "-", action, "-", leg));
  return r;
}

// The caller's leg in the conference.
std::string CallerLeg(const v1::CallState& state) { return state.carrier_call_id(); }

}  // namespace

void RoutingCore::FollowUp(const Step& step) {
  if (options_.call_control == nullptr || (!step.resume_caller && !step.hang_up_caller)) return;
  const v1::CallState& s = step.state;
  absl::Status done = absl::OkStatus();
  if (step.resume_caller) {
    done = options_.call_control
               ->ConferenceControl(s.company_id(),
                                   Conference(s, cv1::ConferenceControlRequest::UNHOLD,
                                              CallerLeg(s)))
               .status();
  }
  if (step.hang_up_caller && done.ok()) {
    done = options_.call_control->HangupCall(s.company_id(), s.carrier_call_id());
  }
  if (!done.ok()) {
    log::Warn("conference follow-up not done at the carrier",
              {{"call_id", s.call_id()},
               {"what", step.hang_up_caller ? "end the call" : "resume the caller"},
               {"error", std::string(done.message())}});
  }
}

absl::Status RoutingCore::EnsureConference(const P& p, const std::string& call_id) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (call_id.empty()) return absl::InvalidArgumentError("call_id: required");
  ASSIGN_OR_RETURN(StoredCall call, store_.LoadCallById(p.company_id, call_id));
  if (call.state.phase() == v1::PHASE_CONFERENCE) return absl::OkStatus();
  return ControlCall(
             p, call_id, "conference",
             [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
                 absl::Time now) -> absl::StatusOr<Step> {
               // Another request moved it meanwhile: nothing to do.
               if (state.phase() == v1::PHASE_CONFERENCE) return CallEngine::Unchanged(state);
               return engine.EnterConference(state, now);
             },
             [&](CallControl& carrier, const v1::CallState&, const Step& step) -> absl::Status {
               return carrier
                   .ConferenceControl(step.state.company_id(),
                                      Conference(step.state, cv1::ConferenceControlRequest::MOVE_BRIDGE))
                   .status();
             })
      .status();
}

absl::StatusOr<v1::CallRecord> RoutingCore::HoldCall(const P& p, const v1::LiveCallRequest& req,
                                                     bool on_hold) {
  if (on_hold) RETURN_IF_ERROR(EnsureConference(p, req.call_id()));
  return ControlCall(
      p, req.call_id(), on_hold ? "hold" : "resume",
      [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
          absl::Time now) { return engine.SetHold(state, on_hold, p.user_id, now); },
      [&](CallControl& carrier, const v1::CallState&, const Step& step) -> absl::Status {
        cv1::ConferenceControlRequest r =
            Conference(step.state,
                       on_hold ? cv1::ConferenceControlRequest::HOLD
                               : cv1::ConferenceControlRequest::UNHOLD,
                       CallerLeg(step.state));
        return carrier.ConferenceControl(step.state.company_id(), r).status();
      });
}

absl::StatusOr<v1::CallRecord> RoutingCore::AddParticipant(const P& p,
                                                           const v1::AddParticipantRequest& req,
                                                           bool warm_transfer) {
  PartyTarget target;
  switch (req.target_case()) {
    case v1::AddParticipantRequest::kUserId:
      if (req.user_id().empty()) return absl::InvalidArgumentError("user_id: required");
      target.user_id = req.user_id();
      break;
    case v1::AddParticipantRequest::kExternalNumber:
      if (!IsE164(req.external_number())) {
        return absl::InvalidArgumentError(
            "external_number: must be an E.164 number, e.g. +14155550100");
      }
      target.external_number = req.external_number();
      break;
    case v1::AddParticipantRequest::TARGET_NOT_SET:
      return absl::InvalidArgumentError("target: one of user_id, external_number is required");
  }
  if (req.ring_seconds() < 0 || req.ring_seconds() > 120) {
    return absl::InvalidArgumentError("ring_seconds: must be 0 (default) to 120");
  }
  RETURN_IF_ERROR(EnsureConference(p, req.call_id()));
  std::string dialled, leg;
  ASSIGN_OR_RETURN(
      v1::CallRecord added,
      ControlCall(
          p, req.call_id(), warm_transfer ? "warm transfer" : "add participant",
          [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
              absl::Time now) {
            return engine.AddParticipant(state, target, warm_transfer, p.user_id, now);
          },
          [&](CallControl& carrier, const v1::CallState&, const Step& step) -> absl::Status {
            const v1::CallState& s = step.state;
            if (warm_transfer) {
              RETURN_IF_ERROR(carrier
                                  .ConferenceControl(s.company_id(),
                                                     Conference(s, cv1::ConferenceControlRequest::HOLD,
                                                                CallerLeg(s)))
                                  .status());
            }
            cv1::ConferenceControlRequest r = Conference(s, cv1::ConferenceControlRequest::ADD);
            dialled = step.added->number();
            r.set_to(dialled);
            // The business number: the line called (inbound), the caller ID (click-to-call).
            r.set_from(s.outbound() ? s.from() : s.to());
            r.set_timeout_s(req.ring_seconds() > 0 ? req.ring_seconds() : 30);
            absl::StatusOr<std::string> placed = carrier.ConferenceControl(s.company_id(), r);
            if (!placed.ok() && warm_transfer) {
              (void)carrier.ConferenceControl(
                  s.company_id(),
                  Conference(s, cv1::ConferenceControlRequest::UNHOLD, CallerLeg(s)));
            }
            if (!placed.ok()) return placed.status();
            leg = *placed;
            return absl::OkStatus();
          }));
  if (leg.empty()) return added;
  // The carrier named the new leg: note it (unless its first report already did).
  return ControlCall(
      p, req.call_id(), "participant leg",
      [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
          absl::Time now) { return engine.NameParticipantLeg(state, dialled, leg, now); },
      [](CallControl&, const v1::CallState&, const Step&) { return absl::OkStatus(); });
}

absl::StatusOr<v1::CallRecord> RoutingCore::RemoveParticipant(
    const P& p, const v1::RemoveParticipantRequest& req) {
  return ControlCall(
      p, req.call_id(), "remove participant",
      [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
          absl::Time now) { return engine.RemoveParticipant(state, req.leg(), p.user_id, now); },
      [&](CallControl& carrier, const v1::CallState&, const Step& step) -> absl::Status {
        return carrier
            .ConferenceControl(step.state.company_id(),
                               Conference(step.state, cv1::ConferenceControlRequest::REMOVE,
                                          req.leg()))
            .status();
      });
}

absl::StatusOr<v1::CallRecord> RoutingCore::FinishWarmTransfer(const P& p,
                                                               const v1::LiveCallRequest& req,
                                                               bool complete) {
  return ControlCall(
      p, req.call_id(), complete ? "warm transfer completion" : "warm transfer cancel",
      [&](const CallEngine& engine, const CompanySnapshot&, const v1::CallState& state,
          absl::Time now) {
        return complete ? engine.CompleteWarmTransfer(state, p.user_id, now)
                        : engine.CancelWarmTransfer(state, p.user_id, now);
      },
      [&](CallControl& carrier, const v1::CallState&, const Step& step) -> absl::Status {
        const v1::CallState& s = step.state;
        for (const std::string& leg : step.removed_legs) {
          if (leg.empty()) continue;
          RETURN_IF_ERROR(
              carrier
                  .ConferenceControl(s.company_id(),
                                     Conference(s, cv1::ConferenceControlRequest::REMOVE, leg))
                  .status());
        }
        return carrier
            .ConferenceControl(s.company_id(),
                               Conference(s, cv1::ConferenceControlRequest::UNHOLD, CallerLeg(s)))
            .status();
      });
}

absl::StatusOr<v1::CallRecord> RoutingCore::ControlCall(const P& p, const std::string& call_id,
                                                        absl::string_view what,
                                                        const MakeControlStep& make,
                                                        const CarrierAct& act) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (!IsViewer(p) && p.role != "tech") {
    return absl::PermissionDeniedError(
        "live call control needs the owner, admin, office or tech role");
  }
  if (call_id.empty()) return absl::InvalidArgumentError("call_id: required");
  if (options_.call_control == nullptr) {
    return absl::UnavailableError("live call control: no carrier is configured");
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(StoredCall call, store_.LoadCallById(p.company_id, call_id));
    const v1::CallState& before = call.state;
    const bool participant = std::any_of(
        before.participants().begin(), before.participants().end(),
        [&](const v1::Participant& x) {
          return x.user_id() == p.user_id && x.status() == v1::Participant::JOINED;
        });
    if (!IsViewer(p) && (p.user_id.empty() || (before.answered_by() != p.user_id &&
                                                before.agent_user_id() != p.user_id &&
                                                !participant))) {
      return absl::PermissionDeniedError(
          "call_id: a tech controls only the calls they answered or placed");
    }
    if (before.carrier_call_id().empty()) {
      return absl::FailedPreconditionError(
          "call_id: the carrier's leg of this call is not known (call taken before live call "
          "control existed)");
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
    ASSIGN_OR_RETURN(v1::FlowBundle bundle, BundleForCall(*snap, before, call.line_id, ""));
    Live live(*this, snap, bundle);
    CallEngine engine(bundle, live.deps());
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(Step step, make(engine, *snap, before, now));
    if (!step.changed) return CallView(p.company_id, call.id, "");
    ApplyRecording(*snap, /*first_set=*/false, &step);
    CallWrite w;
    w.id = call.id;
    w.company_id = p.company_id;
    w.call_key = call.call_key;
    w.expected_seq = before.seq();
    w.state = step.state;
    // The calls.v1 events commit with the state, in order with the call's other transitions
    // (the carrier's reports of what it does next may arrive before it answers).
    FillWrite(step, now, call.id, call.call_key, &w);
    absl::Status stored = store_.ApplyCall(w, now);
    if (absl::IsAborted(stored)) continue;  // a webhook moved the call on meanwhile: again
    RETURN_IF_ERROR(stored);
    (void)calls_.Put(call.call_key, CachedCall{call.id, call.line_id, step.state});
    absl::Status acted = act(*options_.call_control, before, step);
    if (acted.ok()) FollowUp(step);
    if (!acted.ok()) {
      log::Warn("live call control failed at the carrier",
                {{"call_id", call.id}, {"what", std::string(what)},
                 {"error", std::string(acted.message())}});
      // The carrier did not act: the call is as it was; record why.
      v1::CallState restored = before;
      restored.set_seq(step.state.seq() + 1);
      CallWrite undo;
      undo.id = call.id;
      undo.company_id = p.company_id;
      undo.call_key = call.call_key;
      undo.expected_seq = step.state.seq();
      undo.state = restored;
      v1::PathEntry note;
      note.set_kind(v1::PATH_INFO);
      note.set_text(absl::StrCat(what, " failed: ", acted.message()));
      undo.path.push_back(note);
      // Consumers saw the attempt (its events went out with it): tell them it failed.
      ev1::Event failed = events::NewEvent("calls.call_routed", p.company_id, call.id,
                                           options_.events_source, clock_);
      failed.mutable_call_routed()->set_call_id(call.id);
      failed.mutable_call_routed()->set_call_key(call.call_key);
      failed.mutable_call_routed()->set_detail(note.text());
      undo.events.push_back(std::move(failed));
      absl::Status undone = store_.ApplyCall(undo, clock_.Now());
      if (undone.ok()) {
        (void)calls_.Put(call.call_key, CachedCall{call.id, call.line_id, restored});
      } else {
        log::Error("live call control not undone",
                   {{"call_id", call.id}, {"error", std::string(undone.message())}});
      }
      return acted;
    }
    return CallView(p.company_id, call.id, "");
  }
  return absl::AbortedError(
      absl::StrCat("call_id: the call kept changing during the ", what, "; try again"));
}

// ---- recording policy ---------------------------------------------------------------------------

absl::StatusOr<v1::RecordingPolicyView> RoutingCore::GetRecordingPolicy(const P& p) {
  RETURN_IF_ERROR(RequireViewer(p));
  ASSIGN_OR_RETURN(std::shared_ptr<const CompanySnapshot> snap, config_.Get(p.company_id));
  v1::RecordingPolicyView out;
  *out.mutable_policy() = snap->config.recording;
  out.set_company_state(snap->state);
  out.set_consent_announcement_required(RequiresAllPartyConsent(snap->state));
  return out;
}

absl::StatusOr<v1::RecordingPolicyView> RoutingCore::SetRecordingPolicy(
    const P& p, const v1::RecordingPolicy& policy) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (p.role != "owner" && !IsService(p)) {
    return absl::PermissionDeniedError("changing the recording policy needs the owner role");
  }
  if (!v1::RecordingMode_IsValid(policy.mode())) {
    return absl::InvalidArgumentError("mode: unknown recording mode");
  }
  if (policy.consent_announcement().size() > 500) {
    return absl::InvalidArgumentError("consent_announcement: longer than 500 characters");
  }
  v1::RecordingPolicy stored = policy;
  if (stored.mode() == v1::RECORDING_MODE_UNSPECIFIED) stored.set_mode(v1::RECORDING_OFF);
  RETURN_IF_ERROR(store_.PutRecordingPolicy(p.company_id, stored, clock_.Now()));
  Invalidate(p.company_id);
  return GetRecordingPolicy(rpc::Principal{.company_id = p.company_id, .role = "service"});
}

// ---- history --------------------------------------------------------------------------------------

absl::StatusOr<v1::ListCallsResponse> RoutingCore::ListCalls(const P& p,
                                                             const v1::ListCallsRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  CallFilter f;
  if (req.has_started_after()) f.started_after = TimeOr(req.started_after(), true, absl::Now());
  if (req.has_started_before()) f.started_before = TimeOr(req.started_before(), true, absl::Now());
  switch (req.direction()) {
    case v1::DIRECTION_INBOUND:
      f.direction = "inbound";
      break;
    case v1::DIRECTION_OUTBOUND:
      f.direction = "outbound";
      break;
    case v1::DIRECTION_INTERNAL:
      f.direction = "internal";
      break;
    default:
      break;
  }
  f.status = StatusName(req.status());
  f.number = req.number();
  f.user_id = req.user_id();
  for (char c : req.search()) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) f.search.push_back(c);
  }
  if (!req.search().empty() && f.search.empty()) {
    return absl::InvalidArgumentError("search: needs at least one digit");
  }
  if (!IsViewer(p)) {
    if (p.user_id.empty()) return absl::PermissionDeniedError("no user in the principal");
    f.visible_to_user = p.user_id;
  }
  const int size = PageSize(req.page_size());
  ASSIGN_OR_RETURN(std::vector<v1::CallRecord> calls,
                   store_.ListCalls(p.company_id, f, size + 1, req.page_token()));
  v1::ListCallsResponse out;
  for (int i = 0; i < static_cast<int>(calls.size()) && i < size; ++i) {
    *out.add_calls() = std::move(calls[i]);
  }
  if (static_cast<int>(calls.size()) > size) {
    out.set_next_page_token(CallPageToken(out.calls(size - 1)));
  }
  return out;
}

absl::StatusOr<v1::CallRecord> RoutingCore::GetCall(const P& p, const v1::GetCallRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (req.call_id().empty()) return absl::InvalidArgumentError("call_id: required");
  return CallView(p.company_id, req.call_id(), IsViewer(p) ? "" : p.user_id);
}

absl::StatusOr<v1::CallRecord> RoutingCore::CallView(const std::string& company_id,
                                                     const std::string& call_id,
                                                     const std::string& visible_to) {
  ASSIGN_OR_RETURN(v1::CallRecord record, store_.GetCall(company_id, call_id, visible_to));
  if (record.status() != v1::CALL_STATUS_UNSPECIFIED) return record;
  absl::StatusOr<StoredCall> live = store_.LoadCallById(company_id, call_id);
  if (live.ok() && live->state.phase() == v1::PHASE_CONFERENCE) {
    *record.mutable_participants() = live->state.participants();
  }
  return record;
}

absl::StatusOr<v1::CallNote> RoutingCore::AddCallNote(const P& p,
                                                      const v1::AddCallNoteRequest& req) {
  RETURN_IF_ERROR(RequireCompany(p));
  if (req.call_id().empty()) return absl::InvalidArgumentError("call_id: required");
  const std::string text(absl::StripAsciiWhitespace(req.text()));
  if (text.empty()) return absl::InvalidArgumentError("text: required");
  if (text.size() > 2000) return absl::InvalidArgumentError("text: longer than 2000 characters");
  // A tech may annotate only calls they can see.
  RETURN_IF_ERROR(
      store_.GetCall(p.company_id, req.call_id(), IsViewer(p) ? "" : p.user_id).status());
  return store_.AddCallNote(p.company_id, req.call_id(), p.user_id, text, clock_.Now());
}

}  // namespace switchboard::routing
