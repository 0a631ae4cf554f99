// Lookup view over a FlowBundle (flow + the company's ring groups and voicemail boxes) and the
// small helpers the validator and the engine share: defaults, E.164 and keypad (E.161) rules.
// A FlowIndex borrows the bundle: the bundle must outlive it. Immutable after construction;
// safe to share between threads.
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "switchboard/routing/v1/flow.pb.h"

namespace switchboard::routing {

inline constexpr int kDefaultRingSeconds = 25;
inline constexpr int kMinRingSeconds = 5;
inline constexpr int kMaxRingSeconds = 120;
inline constexpr int kDefaultMenuTimeoutS = 5;
inline constexpr int kDefaultMaxAttempts = 3;
inline constexpr int kMaxAttempts = 5;
inline constexpr int kDefaultVoicemailMaxS = 120;
inline constexpr int kMinVoicemailS = 10;
inline constexpr int kMaxVoicemailS = 600;
inline constexpr int kMaxGreetingChars = 1000;

class FlowIndex {
 public:
  explicit FlowIndex(const v1::FlowBundle& bundle);

  const v1::FlowBundle& bundle() const { return bundle_; }
  const v1::Flow& flow() const { return bundle_.flow(); }
  const v1::Menu* FindMenu(absl::string_view id) const;
  const v1::RingGroup* FindGroup(absl::string_view id) const;
  const v1::VoicemailBox* FindBox(absl::string_view id) const;

 private:
  const v1::FlowBundle& bundle_;
  absl::flat_hash_map<std::string, const v1::Menu*> menus_;
  absl::flat_hash_map<std::string, const v1::RingGroup*> groups_;
  absl::flat_hash_map<std::string, const v1::VoicemailBox*> boxes_;
};

// "+" then 8-15 digits, first digit 1-9.
bool IsE164(absl::string_view s);
// One of 0-9 * #.
bool IsMenuKey(absl::string_view s);
// E.161 keypad digits of the letters of `name` (non-letters dropped): "Torres" -> "867737".
std::string KeypadDigits(absl::string_view name);
// `seconds`, or `fallback` when 0.
inline int OrDefault(int seconds, int fallback) { return seconds == 0 ? fallback : seconds; }

}  // namespace switchboard::routing
