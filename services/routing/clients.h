// gRPC clients of the routing service's ports (service_ports.h): identity (directory, company
// time zone), numbers (ResolveNumber, ListNumbers for caller IDs), carrier (PlaceCall) and media
// (greeting URLs). Every call carries the service principal
// (x-sb-company-id, x-sb-role=service) and a deadline (`timeout`). Thread-safe (gRPC stubs are).
// Errors: the other service's status, UNAVAILABLE / DEADLINE_EXCEEDED when it cannot answer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/time/time.h"
#include "services/routing/service_ports.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/media/v1/media.grpc.pb.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"

namespace switchboard::routing {

// Directory from identity: ListUsers (not deactivated), then per user ListDevices (first
// softphone identity) and GetPresence: DND = dnd (skipped); OFFLINE (no softphone connected, also
// identity's answer when presence was never set) = the softphone is not rung, the forward-to
// number still is, and a user with no forward-to is offline (skipped); unreadable presence =
// available. full_name is split at its last space into first/last name.
class IdentityClient final : public DirectorySource, public CompanyInfoSource {
 public:
  IdentityClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<std::vector<DirectoryUser>> LoadUsers(absl::string_view company_id) override;
  absl::StatusOr<CompanyInfo> Company(absl::string_view company_id) override;

 private:
  std::unique_ptr<identity::v1::Identity::Stub> stub_;
  absl::Duration timeout_;
};

class NumbersClient final : public NumberResolver {
 public:
  NumbersClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<ResolvedLine> Resolve(absl::string_view e164) override;
  // From ListNumbers of the company: the first ACTIVE, switched-on MAIN line, or the user's
  // DIRECT line.
  absl::StatusOr<CallerIdLine> CallerId(absl::string_view company_id, absl::string_view user_id,
                                        bool direct) override;

 private:
  std::unique_ptr<numbers::v1::Numbers::Stub> stub_;
  absl::Duration timeout_;
};

// Greeting URLs from media: GetGreetingUrl by greeting id, as the company's service principal.
class MediaClient final : public GreetingSource {
 public:
  MediaClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<GreetingUrl> Fetch(absl::string_view company_id,
                                    absl::string_view greeting_id) override;

 private:
  std::unique_ptr<media::v1::Media::Stub> stub_;
  absl::Duration timeout_;
};

// CallControl through the carrier service (carrier.v1 Carrier PlaceCall, ModifyCall INSTRUCT,
// StartRecording, StopRecording, ConferenceControl); `timeout` per call (each waits for the carrier's REST API).
class CarrierClient final : public CallControl {
 public:
  CarrierClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<PlacedLeg> PlaceCall(absl::string_view company_id, absl::string_view from,
                                      absl::string_view to, absl::string_view client_state,
                                      absl::string_view idempotency_key) override;
  absl::Status InstructCall(absl::string_view company_id, absl::string_view call_id,
                            const carrier::v1::CallInstructions& instructions) override;
  absl::StatusOr<std::string> StartRecording(absl::string_view company_id,
                                             absl::string_view call_id) override;
  absl::Status StopRecording(absl::string_view company_id, absl::string_view call_id) override;
  absl::StatusOr<std::string> ConferenceControl(
      absl::string_view company_id, const carrier::v1::ConferenceControlRequest& request) override;
  absl::Status HangupCall(absl::string_view company_id, absl::string_view call_id) override;

 private:
  std::unique_ptr<carrier::v1::Carrier::Stub> stub_;
  absl::Duration timeout_;
};

// "Mike Torres" -> {"Mike", "Torres"}; one word -> {"", word}.
std::pair<std::string, std::string> SplitFullName(absl::string_view full_name);

}  // namespace switchboard::routing
