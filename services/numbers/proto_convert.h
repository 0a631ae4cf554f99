// Domain structs <-> switchboard.numbers.v1 messages. The only code besides the adapter and
// the Redis cache that sees the generated types. Never fails: unknown enum values map to the
// request defaults (validated by the core).
#pragma once

#include "services/numbers/model.h"
#include "switchboard/numbers/v1/numbers.pb.h"

namespace switchboard::numbers {

void NumberToProto(const Number& n, v1::Number* out);
void PortToProto(const PortRequest& p, v1::PortRequest* out);
void ResolvedToProto(const Resolved& r, bool cached, v1::ResolvedNumber* out);
Resolved ResolvedFromProto(const v1::ResolvedNumber& p);
void AvailableToProto(const AvailableNumber& n, v1::AvailableNumber* out);
AvailableNumber AvailableFromProto(const v1::AvailableNumber& p);

v1::LineType LineTypeToProto(LineType t);
LineType LineTypeFromProto(v1::LineType t, LineType fallback);
NumberType NumberTypeFromProto(v1::NumberType t);
v1::CallerIdChoice ChoiceToProto(CallerIdChoice c);
CallerIdChoice ChoiceFromProto(v1::CallerIdChoice c);
ServiceAddress AddressFromProto(const v1::ServiceAddress& a);

}  // namespace switchboard::numbers
