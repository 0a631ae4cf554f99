#include "services/routing/clients.h"

#include <chrono>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"

namespace switchboard::routing {
namespace {

// A context for one call on behalf of `company_id` (empty: platform-wide, still role service).
void Prepare(grpc::ClientContext& ctx, absl::string_view company_id, absl::Duration timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
  rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = company_id.empty()
                                                             ? std::string("platform")
                                                             : std::string(company_id),
                                           .role = "service"});
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  absl::Status st = rpc::FromGrpcStatus(s);
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

}  // namespace

std::pair<std::string, std::string> SplitFullName(absl::string_view full_name) {
  full_name = absl::StripAsciiWhitespace(full_name);
  const size_t sp = full_name.rfind(' ');
  if (sp == absl::string_view::npos) return {"", std::string(full_name)};
  return {std::string(absl::StripAsciiWhitespace(full_name.substr(0, sp))),
          std::string(full_name.substr(sp + 1))};
}

IdentityClient::IdentityClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(identity::v1::Identity::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<std::vector<DirectoryUser>> IdentityClient::LoadUsers(
    absl::string_view company_id) {
  identity::v1::ListUsersResponse users;
  {
    grpc::ClientContext ctx;
    Prepare(ctx, company_id, timeout_);
    grpc::Status s = stub_->ListUsers(&ctx, identity::v1::ListUsersRequest(), &users);
    if (!s.ok()) return FromGrpc(s, "identity ListUsers");
  }
  std::vector<DirectoryUser> out;
  out.reserve(users.users_size());
  for (const identity::v1::User& u : users.users()) {
    DirectoryUser d;
    d.id = u.id();
    std::tie(d.first_name, d.last_name) = SplitFullName(u.full_name());
    d.forward_to = u.forward_to();
    {
      grpc::ClientContext ctx;
      Prepare(ctx, company_id, timeout_);
      identity::v1::ListDevicesRequest req;
      req.set_user_id(u.id());
      identity::v1::ListDevicesResponse devices;
      grpc::Status s = stub_->ListDevices(&ctx, req, &devices);
      if (!s.ok()) return FromGrpc(s, "identity ListDevices");
      for (const identity::v1::Device& dev : devices.devices()) {
        if (!dev.softphone_identity().empty()) {
          d.softphone = dev.softphone_identity();
          break;
        }
      }
    }
    {
      grpc::ClientContext ctx;
      Prepare(ctx, company_id, timeout_);
      identity::v1::GetPresenceRequest req;
      req.set_user_id(u.id());
      identity::v1::Presence presence;
      grpc::Status s = stub_->GetPresence(&ctx, req, &presence);
      if (s.ok()) {
        d.dnd = presence.state() == identity::v1::PRESENCE_STATE_DND;
        if (presence.state() == identity::v1::PRESENCE_STATE_OFFLINE) {
          // No softphone connected (or presence never set): the app cannot ring, the
          // forward-to phone still can; with neither the user is offline for routing.
          d.softphone.clear();
          d.online = !d.forward_to.empty();
        }
      } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
        return FromGrpc(s, "identity GetPresence");
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<CompanyInfo> IdentityClient::Company(absl::string_view company_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  identity::v1::GetCompanyRequest req;
  req.set_company_id(std::string(company_id));
  identity::v1::Company company;
  grpc::Status s = stub_->GetCompany(&ctx, req, &company);
  if (!s.ok()) return FromGrpc(s, "identity GetCompany");
  return CompanyInfo{.time_zone = company.time_zone(), .state = company.address().state()};
}

NumbersClient::NumbersClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(numbers::v1::Numbers::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<ResolvedLine> NumbersClient::Resolve(absl::string_view e164) {
  grpc::ClientContext ctx;
  Prepare(ctx, "", timeout_);
  numbers::v1::ResolveNumberRequest req;
  req.set_e164(std::string(e164));
  numbers::v1::ResolvedNumber r;
  grpc::Status s = stub_->ResolveNumber(&ctx, req, &r);
  if (!s.ok()) return FromGrpc(s, "numbers ResolveNumber");
  return ResolvedLine{.company_id = r.company_id(),
                      .line_id = r.line_id(),
                      .flow_id = r.flow_id(),
                      .assigned_user_id = r.assigned_user_id(),
                      .department = r.department()};
}

MediaClient::MediaClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(media::v1::Media::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<GreetingUrl> MediaClient::Fetch(absl::string_view company_id,
                                               absl::string_view greeting_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  media::v1::GetGreetingUrlRequest req;
  req.set_greeting_id(std::string(greeting_id));
  media::v1::GetGreetingUrlResponse r;
  grpc::Status s = stub_->GetGreetingUrl(&ctx, req, &r);
  if (!s.ok()) return FromGrpc(s, "media GetGreetingUrl");
  if (r.url().empty()) return absl::InternalError("media GetGreetingUrl: no URL");
  GreetingUrl out{.url = r.url()};
  if (r.has_expires_at()) {
    out.expires_at = absl::FromUnixSeconds(r.expires_at().seconds()) +
                     absl::Nanoseconds(r.expires_at().nanos());
  }
  return out;
}

absl::StatusOr<CallerIdLine> NumbersClient::CallerId(absl::string_view company_id,
                                                     absl::string_view user_id, bool direct) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  numbers::v1::ListNumbersRequest req;
  numbers::v1::ListNumbersResponse resp;
  grpc::Status s = stub_->ListNumbers(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, "numbers ListNumbers");
  for (const numbers::v1::Number& n : resp.numbers()) {
    if (n.status() != numbers::v1::NUMBER_ACTIVE || !n.active()) continue;
    if (!direct && n.line_type() == numbers::v1::LINE_MAIN) {
      return CallerIdLine{.e164 = n.e164(), .line_id = n.line_id()};
    }
    if (direct && n.line_type() == numbers::v1::LINE_DIRECT && n.assigned_user_id() == user_id) {
      return CallerIdLine{.e164 = n.e164(), .line_id = n.line_id()};
    }
  }
  return absl::FailedPreconditionError(
      direct ? absl::StrCat("caller_id: user ", user_id, " has no active direct line")
             : std::string("caller_id: the company has no active main line"));
}

CarrierClient::CarrierClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(carrier::v1::Carrier::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<PlacedLeg> CarrierClient::PlaceCall(absl::string_view company_id,
                                                   absl::string_view from, absl::string_view to,
                                                   absl::string_view client_state,
                                                   absl::string_view idempotency_key) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::PlaceCallRequest req;
  req.set_from(std::string(from));
  req.set_to(std::string(to));
  req.set_client_state(std::string(client_state));
  req.set_idempotency_key(std::string(idempotency_key));
  carrier::v1::PlacedCall placed;
  grpc::Status s = stub_->PlaceCall(&ctx, req, &placed);
  if (!s.ok()) return FromGrpc(s, "carrier PlaceCall");
  return PlacedLeg{.call_id = placed.call_id(),
                   .session_id = placed.session_id(),
                   .provider = placed.provider()};
}

absl::Status CarrierClient::InstructCall(absl::string_view company_id, absl::string_view call_id,
                                         const carrier::v1::CallInstructions& instructions) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::ModifyCallRequest req;
  req.set_call_id(std::string(call_id));
  req.set_action(carrier::v1::ModifyCallRequest::INSTRUCT);
  // One modification per instruction set: a retried request is the same modification.
  req.set_idempotency_key(instructions.id());
  *req.mutable_instructions() = instructions;
  carrier::v1::ModifyCallResponse out;
  grpc::Status s = stub_->ModifyCall(&ctx, req, &out);
  if (!s.ok()) return FromGrpc(s, "carrier ModifyCall");
  return absl::OkStatus();
}

absl::StatusOr<std::string> CarrierClient::StartRecording(absl::string_view company_id,
                                                          absl::string_view call_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::StartRecordingRequest req;
  req.set_call_id(std::string(call_id));
  carrier::v1::StartRecordingResponse out;
  grpc::Status s = stub_->StartRecording(&ctx, req, &out);
  if (!s.ok()) return FromGrpc(s, "carrier StartRecording");
  return out.recording_id();
}

absl::Status CarrierClient::StopRecording(absl::string_view company_id, absl::string_view call_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::StopRecordingRequest req;
  req.set_call_id(std::string(call_id));
  carrier::v1::StopRecordingResponse out;
  grpc::Status s = stub_->StopRecording(&ctx, req, &out);
  if (!s.ok()) return FromGrpc(s, "carrier StopRecording");
  return absl::OkStatus();
}

absl::StatusOr<std::string> CarrierClient::ConferenceControl(
    absl::string_view company_id, const carrier::v1::ConferenceControlRequest& request) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::ConferenceControlResponse out;
  grpc::Status s = stub_->ConferenceControl(&ctx, request, &out);
  if (!s.ok()) return FromGrpc(s, "carrier ConferenceControl");
  return out.leg();
}

absl::Status CarrierClient::HangupCall(absl::string_view company_id, absl::string_view call_id) {
  grpc::ClientContext ctx;
  Prepare(ctx, company_id, timeout_);
  carrier::v1::ModifyCallRequest req;
  req.set_call_id(std::string(call_id));
  req.set_action(carrier::v1::ModifyCallRequest::HANGUP);
  carrier::v1::ModifyCallResponse out;
  grpc::Status s = stub_->ModifyCall(&ctx, req, &out);
  if (!s.ok()) return FromGrpc(s, "carrier ModifyCall");
  return absl::OkStatus();
}

}  // namespace switchboard::routing
