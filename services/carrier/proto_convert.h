// Conversion between the core's plain structs (model.h) and switchboard.carrier.v1 messages.
// The only carrier code besides the gRPC adapter that sees protobuf types. Thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "services/carrier/model.h"
#include "switchboard/carrier/v1/carrier.pb.h"

namespace switchboard::carrier {

// kInvalidArgument naming the field ("instructions[2]: empty instruction",
// "instructions[1].dial.targets[0]: no target") for an unset oneof.
absl::StatusOr<CallInstructions> CallInstructionsFromProto(const v1::CallInstructions& proto);
void CallInstructionsToProto(const CallInstructions& in, v1::CallInstructions* out);

void CarrierEventToProto(const CarrierEvent& in, v1::CarrierEvent* out);
// kInvalidArgument when the kind oneof is unset or an enum is UNSPECIFIED.
absl::StatusOr<CarrierEvent> CarrierEventFromProto(const v1::CarrierEvent& proto);

}  // namespace switchboard::carrier
