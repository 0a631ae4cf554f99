// An audio greeting end to end: media renders a greeting (espeak-ng, stored encrypted), the
// owner points the Powers Electric menus at it, and a call through the emulator (Twilio wire)
// hears it as a <Play> of media's URL, which serves the audio the carrier fetches. The dry run
// names the same greeting; a greeting media does not have falls back to the menu's text.
// Runs on the real stack of processes (tests/support/stack.h).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/http/client.h"
#include "tests/support/stack.h"

namespace switchboard {
namespace {

namespace mv1 = switchboard::media::v1;
namespace rv1 = switchboard::routing::v1;
using json = nlohmann::json;

void RequireOk(const absl::Status& s) {
  INFO(s.ToString());
  REQUIRE(s.ok());
}

// The prompts of the first Gather the caller heard.
json FirstGatherPrompts(const json& steps) {
  for (const json& s : steps) {
    if (s.value("verb", "") == "Gather") return s.at("details").at("prompts");
  }
  return json::array();
}

TEST_CASE("an audio greeting from media is played to callers", "[e2e][greeting]") {
  auto stack = testing::Stack::Start();
  RequireOk(stack.status());
  testing::Stack& st = **stack;
  INFO(st.LogTails());
  auto tenant = st.SeedPowersElectric("twilio", "415", "+1917555880");
  RequireOk(tenant.status());
  auto web = http::CurlHttpClient::Create();
  RequireOk(web.status());
  // A call from `from` to the main line: the caller presses 1 at the first menu, everyone rung
  // answers. Returns the emulator's steps.
  auto call = [&](const std::string& from) {
    const json scenario = {{"carrier", "twilio"},
                           {"from", from},
                           {"to", tenant->main_number},
                           {"caller", json::array({{{"on", "gather"}, {"press", "1"}}})},
                           {"callees", {{"default", {{"answer_after_s", 2}, {"talk_s", 5}}}}}};
    absl::StatusOr<http::HttpResponse> answer =
        (*web)->Send({.method = "POST",
                      .url = st.emulator_url() + "/emulator/calls",
                      .headers = {{"Content-Type", "application/json"}},
                      .body = scenario.dump(),
                      .timeout = absl::Seconds(90)});
    RequireOk(answer.status());
    INFO("scenario result: " << answer->body);
    REQUIRE(answer->status == 200);
    const json result = json::parse(answer->body, nullptr, false);
    REQUIRE(result.is_object());
    return result.at("steps");
  };

  // The owner has media render the company's greeting.
  mv1::GetGreetingUrlRequest render;
  render.set_text("Welcome to Powers Electric, your licensed electricians since 1998.");
  render.set_language("en-US");
  mv1::GetGreetingUrlResponse rendered;
  RequireOk(testing::StackRpc(*st.media_stub(), &mv1::Media::Stub::GetGreetingUrl,
                              tenant->owner, render, &rendered, "GetGreetingUrl"));
  const std::string greeting_id = rendered.greeting().id();
  REQUIRE_FALSE(greeting_id.empty());

  // Both menus of the main-line flow open with it (whatever the time of day), and a second flow
  // version points at a greeting media does not have.
  rv1::GetFlowRequest get;
  get.set_flow_id("main_line");
  rv1::Flow flow;
  RequireOk(testing::StackRpc(st.routing_stub(), &rv1::Routing::Stub::GetFlow, tenant->owner,
                              get, &flow, "GetFlow"));
  REQUIRE(flow.has_menus());
  for (rv1::Menu& menu : *flow.mutable_menus()->mutable_menus()) {
    if (menu.id() == flow.menus().business_hours_menu_id() ||
        menu.id() == flow.menus().after_hours_menu_id()) {
      menu.mutable_greeting()->set_audio_id(greeting_id);
    }
  }
  rv1::SaveFlowRequest save;
  *save.mutable_flow() = flow;
  rv1::SaveFlowResponse saved;
  RequireOk(testing::StackRpc(st.routing_stub(), &rv1::Routing::Stub::SaveFlow, tenant->owner,
                              save, &saved, "SaveFlow"));

  {  // the dry run and a real call play media's URL, which serves the audio
    rv1::SimulateCallRequest sim;
    sim.set_number(tenant->main_number);
    sim.set_from("+13125559001");
    rv1::SimulateCallResponse simulated;
    RequireOk(testing::StackRpc(st.routing_stub(), &rv1::Routing::Stub::SimulateCall,
                                tenant->owner, sim, &simulated, "SimulateCall"));
    bool simulated_audio = false;
    for (const rv1::PathEntry& e : simulated.path()) {
      if (e.kind() == rv1::PATH_GREETING && absl::StrContains(e.text(), greeting_id)) {
        simulated_audio = true;
      }
    }
    CHECK(simulated_audio);

    const json prompts = FirstGatherPrompts(call("+13125559002"));
    REQUIRE(prompts.size() >= 1);
    CHECK(prompts[0].value("verb", "") == "Play");
    const std::string url = prompts[0].value("text", "");
    // A signed link of its own (every link has an id of its own), to the same greeting.
    CHECK(absl::StrContains(url, absl::StrCat("id=", greeting_id, "&")));
    CHECK(url.substr(0, url.find('?')) == rendered.url().substr(0, rendered.url().find('?')));

    // What the carrier fetches: the rendered greeting, decrypted by media, as audio.
    absl::StatusOr<http::HttpResponse> audio = (*web)->Send({.url = url});
    RequireOk(audio.status());
    CHECK(audio->status == 200);
    REQUIRE(audio->body.size() > 44);
    CHECK(audio->body.substr(0, 4) == "RIFF");
    CHECK(audio->body.substr(8, 4) == "WAVE");
  }

  {  // a greeting media does not have: the menu's text is spoken
    for (rv1::Menu& menu : *flow.mutable_menus()->mutable_menus()) {
      if (menu.greeting().audio_id() == greeting_id) {
        menu.mutable_greeting()->set_audio_id("no-such-greeting");
      }
    }
    *save.mutable_flow() = flow;
    RequireOk(testing::StackRpc(st.routing_stub(), &rv1::Routing::Stub::SaveFlow, tenant->owner,
                                save, &saved, "SaveFlow"));
    const json prompts = FirstGatherPrompts(call("+13125559003"));
    REQUIRE(prompts.size() >= 1);
    CHECK(prompts[0].value("verb", "") == "Say");
    CHECK(absl::StrContains(prompts[0].value("text", ""), "Powers Electric"));
  }
  CHECK(st.Stop().ok());
}

}  // namespace
}  // namespace switchboard
