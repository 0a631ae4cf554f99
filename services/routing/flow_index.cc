#include "services/routing/flow_index.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/routing/interfaces.h"

namespace switchboard::routing {

std::string DirectoryUser::FullName() const {
  if (first_name.empty()) return last_name;
  if (last_name.empty()) return first_name;
  return absl::StrCat(first_name, " ", last_name);
}

absl::StatusOr<std::string> NoGreetingUrls::Url(absl::string_view audio_id) const {
  return absl::NotFoundError(absl::StrCat("audio ", audio_id, ": no media resolver"));
}

FlowIndex::FlowIndex(const v1::FlowBundle& bundle) : bundle_(bundle) {
  if (bundle_.flow().has_menus()) {
    for (const v1::Menu& m : bundle_.flow().menus().menus()) menus_.emplace(m.id(), &m);
  }
  for (const v1::RingGroup& g : bundle_.ring_groups()) groups_.emplace(g.id(), &g);
  for (const v1::VoicemailBox& b : bundle_.voicemail_boxes()) boxes_.emplace(b.id(), &b);
}

const v1::Menu* FlowIndex::FindMenu(absl::string_view id) const {
  auto it = menus_.find(id);
  return it == menus_.end() ? nullptr : it->second;
}

const v1::RingGroup* FlowIndex::FindGroup(absl::string_view id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second;
}

const v1::VoicemailBox* FlowIndex::FindBox(absl::string_view id) const {
  auto it = boxes_.find(id);
  return it == boxes_.end() ? nullptr : it->second;
}

bool IsE164(absl::string_view s) {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsMenuKey(absl::string_view s) {
  return s.size() == 1 && (absl::ascii_isdigit(static_cast<unsigned char>(s[0])) || s[0] == '*' ||
                           s[0] == '#');
}

std::string KeypadDigits(absl::string_view name) {
  static constexpr char kDigitOf[26] = {'2', '2', '2', '3', '3', '3', '4', '4', '4',
                                        '5', '5', '5', '6', '6', '6', '7', '7', '7',
                                        '7', '8', '8', '8', '9', '9', '9', '9'};
  std::string out;
  for (char c : name) {
    char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (lower >= 'a' && lower <= 'z') out.push_back(kDigitOf[lower - 'a']);
  }
  return out;
}

}  // namespace switchboard::routing
