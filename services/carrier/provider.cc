#include "services/carrier/provider.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace switchboard::carrier {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateUrl(absl::string_view field, absl::string_view url, bool required) {
  if (url.empty()) {
    return required ? absl::InvalidArgumentError(absl::StrCat(field, " is required"))
                    : absl::OkStatus();
  }
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be an http(s) URL"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ') {
      return absl::InvalidArgumentError(absl::StrCat(field, " contains whitespace or controls"));
    }
  }
  return absl::OkStatus();
}

bool IsRetryableCarrierError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Status ValidateE164(absl::string_view field, absl::string_view number) {
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0' ||
      !AllDigits(number.substr(1))) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be an E.164 number (+ and 2-15 digits)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSearch(const NumberSearch& search) {
  if (search.country.size() != 2 || !absl::ascii_isupper(search.country[0]) ||
      !absl::ascii_isupper(search.country[1])) {
    return absl::InvalidArgumentError("search.country must be an ISO 3166-1 alpha-2 code");
  }
  if (!AllDigits(search.area_code) || search.area_code.size() > 6) {
    return absl::InvalidArgumentError("search.area_code must be up to 6 digits");
  }
  for (char c : search.contains) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '*') {
      return absl::InvalidArgumentError(
          "search.contains may hold only digits, letters and '*'");
    }
  }
  if (search.contains.size() > 16) {
    return absl::InvalidArgumentError("search.contains must be at most 16 characters");
  }
  if (!AllDigits(search.starts_with) || search.starts_with.size() > 15) {
    return absl::InvalidArgumentError("search.starts_with must be up to 15 digits");
  }
  if (search.limit < 1 || search.limit > 1000) {
    return absl::InvalidArgumentError("search.limit must be in 1..1000");
  }
  return absl::OkStatus();
}

absl::Status ValidatePlaceCall(const PlaceCallRequest& request) {
  if (absl::Status s = ValidateE164("call.from", request.from); !s.ok()) return s;
  if (absl::StartsWith(request.to, "client:")) {
    absl::string_view id = absl::string_view(request.to).substr(7);
    if (id.empty() || id.size() > 120) {
      return absl::InvalidArgumentError("call.to client identity must be 1-120 characters");
    }
    for (char c : id) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
          c != '.') {
        return absl::InvalidArgumentError(
            "call.to client identity may hold only letters, digits, '_', '-' and '.'");
      }
    }
  } else if (absl::Status s = ValidateE164("call.to", request.to); !s.ok()) {
    return absl::InvalidArgumentError(
        "call.to must be an E.164 number or a softphone identity \"client:<id>\"");
  }
  if (absl::Status s = ValidateUrl("call.instructions_url", request.instructions_url, true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateUrl("call.status_callback_url", request.status_callback_url, false);
      !s.ok()) {
    return s;
  }
  if (request.timeout_s < 0 || request.timeout_s > 600) {
    return absl::InvalidArgumentError("call.timeout_s must be in 0..600");
  }
  if (request.client_state.size() > 64) {
    return absl::InvalidArgumentError("call.client_state must be at most 64 characters");
  }
  for (char c : request.client_state) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
        c != ':') {
      return absl::InvalidArgumentError(
          "call.client_state may hold only letters, digits, '_', '-' and ':'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSendMessage(const SendMessageRequest& request) {
  if (absl::Status s = ValidateE164("message.from", request.from); !s.ok()) return s;
  if (absl::Status s = ValidateE164("message.to", request.to); !s.ok()) return s;
  if (request.body.empty() && request.media_urls.empty()) {
    return absl::InvalidArgumentError("message.body or message.media_urls is required");
  }
  size_t characters = 0;  // UTF-8 code points: bytes that are not continuation bytes
  for (char c : request.body) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  if (characters > 1600) {
    return absl::InvalidArgumentError("message.body is longer than 1600 characters");
  }
  if (request.media_urls.size() > 10) {
    return absl::InvalidArgumentError("message.media_urls holds more than 10 URLs");
  }
  for (const std::string& url : request.media_urls) {
    if (absl::Status s = ValidateUrl("message.media_urls", url, true); !s.ok()) return s;
  }
  return ValidateUrl("message.status_callback_url", request.status_callback_url, false);
}

absl::Status ValidatePortOrder(const PortOrderRequest& request) {
  if (request.numbers.empty()) {
    return absl::InvalidArgumentError("port.numbers must hold at least one number");
  }
  for (const std::string& n : request.numbers) {
    if (absl::Status s = ValidateE164("port.numbers", n); !s.ok()) return s;
  }
  if (request.authorized_name.empty()) {
    return absl::InvalidArgumentError("port.authorized_name is required");
  }
  if (request.account_number.empty()) {
    return absl::InvalidArgumentError("port.account_number is required");
  }
  const ServiceAddress& a = request.service_address;
  if (a.street.empty() || a.locality.empty() || a.postal_code.empty() || a.country.size() != 2) {
    return absl::InvalidArgumentError(
        "port.service_address needs street, locality, postal_code and a 2-letter country");
  }
  const std::string& d = request.desired_foc_date;
  if (!d.empty() && (d.size() != 10 || d[4] != '-' || d[7] != '-' ||
                     !AllDigits(d.substr(0, 4)) || !AllDigits(d.substr(5, 2)) ||
                     !AllDigits(d.substr(8, 2)))) {
    return absl::InvalidArgumentError("port.desired_foc_date must be YYYY-MM-DD");
  }
  return absl::OkStatus();
}

absl::Status ValidateModification(const CallModification& modification) {
  if (modification.action == CallModification::Action::kRedirect) {
    return ValidateUrl("modification.redirect_url", modification.redirect_url, true);
  }
  if (modification.action == CallModification::Action::kInstruct && modification.twiml.empty()) {
    return absl::InvalidArgumentError("modification.twiml: required");
  }
  return absl::OkStatus();
}

absl::Status ValidateConferenceRequest(const ConferenceRequest& request) {
  using A = ConferenceRequest::Action;
  RETURN_IF_ERROR(ValidateProviderId("call_id", request.call_id));
  RETURN_IF_ERROR(ValidateConferenceName("conference", request.conference));
  switch (request.action) {
    case A::kMoveBridge:
      return absl::OkStatus();
    case A::kHold:
      RETURN_IF_ERROR(ValidateUrl("hold_audio_url", request.hold_audio_url, false));
      [[fallthrough]];
    case A::kUnhold:
    case A::kRemove:
      return ValidateProviderId("leg", request.leg);
    case A::kAdd: {
      RETURN_IF_ERROR(ValidateE164("from", request.from));
      if (absl::StartsWith(request.to, "client:")) {
        absl::string_view id = absl::string_view(request.to).substr(7);
        if (id.empty() || id.size() > 120 ||
            id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-.") != absl::string_view::npos) {
          return absl::InvalidArgumentError(
              "to: client identity must be 1-120 of letters, digits, '_', '-' and '.'");
        }
      } else if (!ValidateE164("to", request.to).ok()) {
        return absl::InvalidArgumentError(
            "to: must be an E.164 number or a softphone identity \"client:<id>\"");
      }
      if (request.timeout_s < 0 || request.timeout_s > 600) {
        return absl::InvalidArgumentError("timeout_s: must be 0-600");
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("action: unknown");
}

absl::Status ValidateProviderId(absl::string_view field, absl::string_view id) {
  if (id.empty() || id.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be 1-256 characters"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
        c != '.' && c != ':' && c != '+' && c != '=') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " may hold only letters, digits and _ - . : + ="));
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::carrier
