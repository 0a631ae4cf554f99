// TwiML rendering: the twilio-python serialisation vectors (XML-equivalent comparison), the
// attribute names of every instruction, escaping, and well-formedness via pugixml.
#include "services/carrier/twiml.h"

#include <fstream>
#include <sstream>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "pugixml.hpp"

namespace switchboard::carrier {
namespace {

TwimlNode FromVector(const nlohmann::json& tree) {
  TwimlNode node{.tag = tree["tag"].get<std::string>(), .text = tree.value("text", "")};
  if (tree.contains("attrs")) {
    for (const auto& [k, v] : tree["attrs"].items()) node.attrs.emplace_back(k, v.get<std::string>());
  }
  if (tree.contains("children")) {
    for (const auto& child : tree["children"]) node.children.push_back(FromVector(child));
  }
  return node;
}

// XML equivalence: same tags, same attribute sets (order-free), same text, same children.
bool Equivalent(const TwimlNode& a, const TwimlNode& b) {
  if (a.tag != b.tag || a.text != b.text || a.children.size() != b.children.size() ||
      a.attrs.size() != b.attrs.size()) {
    return false;
  }
  for (const auto& [name, value] : a.attrs) {
    const std::string* other = b.Attr(name);
    if (other == nullptr || *other != value) return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!Equivalent(a.children[i], b.children[i])) return false;
  }
  return true;
}

TEST_CASE("twilio-python TwiML serialisation vectors", "[twiml]") {
  std::ifstream in(SB_CARRIER_TESTDATA_DIR "/twilio-vectors.json");
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json vectors = nlohmann::json::parse(buffer.str())["twiml_serialization"];
  REQUIRE(vectors.size() == 21);
  for (const auto& v : vectors) {
    INFO(v["id"].get<std::string>());
    std::string ours = SerializeTwiml(FromVector(v["input_tree"]));
    std::string expected = v["expected_xml_python_sdk"].get<std::string>();
    CHECK(ours.rfind(R"(<?xml version="1.0" encoding="UTF-8"?>)", 0) == 0);
    absl::StatusOr<TwimlNode> ours_tree = ParseTwiml(ours);
    absl::StatusOr<TwimlNode> expected_tree = ParseTwiml(expected);
    REQUIRE(ours_tree.ok());
    REQUIRE(expected_tree.ok());
    CHECK(Equivalent(*ours_tree, *expected_tree));
    // Text escaping must match byte for byte where the SDK escaped.
    if (expected.find("&amp;") != std::string::npos) {
      CHECK(ours.find("&amp;") != std::string::npos);
    }
  }
}

TEST_CASE("instructions with the same shape as SDK vectors render identically", "[twiml]") {
  CallInstructions say{.instructions = {Say{.text = "Hello Monkey", .voice = "man",
                                            .language = "fr", .loop = 3}}};
  CHECK(RenderTwiml(say, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="man" language="fr" loop="3">Hello Monkey</Say></Response>)");
  CallInstructions redirect{.instructions = {Redirect{.url = "example.com?id=34&action=hey"}}};
  CHECK(RenderTwiml(redirect, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">example.com?id=34&amp;action=hey</Redirect></Response>)");
  CallInstructions hangup{.instructions = {Hangup{}}};
  CHECK(RenderTwiml(hangup, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>)");
  CallInstructions play{.instructions = {Play{.url = "http://hellomonkey.mp3", .loop = 3}}};
  CHECK(RenderTwiml(play, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Play loop="3">http://hellomonkey.mp3</Play></Response>)");
  CallInstructions client{.instructions = {Dial{.targets = {{DialTarget::Kind::kClient, "alice"}}}}};
  CHECK(RenderTwiml(client, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Client>alice</Client></Dial></Response>)");
  CHECK(RenderTwiml(CallInstructions{}, {}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

CallInstructions StaticFlow() {
  return CallInstructions{
      .id = "static-1",
      .instructions = {
          Say{.text = "Thanks for calling <Acme> & Sons", .voice = "alice", .language = "en-US"},
          Gather{.num_digits = 1, .timeout_s = 5, .finish_on_key = "#",
                 .prompts = {Say{.text = "Press 1 for sales"}, Play{.url = "https://a/b.mp3"}}},
          Dial{.targets = {{DialTarget::Kind::kNumber, "+15551230001"},
                           {DialTarget::Kind::kClient, "bob"},
                           {DialTarget::Kind::kSip, "sip:desk@pbx.example.com"}},
               .timeout_s = 20, .caller_id = "+15550001111", .record = true},
          Record{.max_length_s = 120, .play_beep = true, .finish_on_key = "#", .timeout_s = 4},
          Pause{.length_s = 2},
          Redirect{.url = "https://hooks.example.com/next?x=1&y=2"},
          Hangup{}}};
}

TwimlOptions Options() {
  return TwimlOptions{
      .gather_action_url = "https://hooks.example.com/webhooks/twilio/gather",
      .dial_action_url = "https://hooks.example.com/webhooks/twilio/dial?tenant=t1",
      .record_action_url = "https://hooks.example.com/webhooks/twilio/record",
      .recording_status_callback_url = "https://hooks.example.com/webhooks/twilio/recording"};
}

TEST_CASE("every instruction renders with Twilio's element and attribute names", "[twiml]") {
  std::string xml = RenderTwiml(StaticFlow(), Options());
  // Well-formed: pugixml parses it back.
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  absl::StatusOr<TwimlNode> root = ParseTwiml(xml);
  REQUIRE(root.ok());
  REQUIRE(root->children.size() == 7);

  const TwimlNode& say = root->children[0];
  CHECK(say.tag == "Say");
  CHECK(*say.Attr("voice") == "alice");
  CHECK(*say.Attr("language") == "en-US");
  CHECK(say.Attr("loop") == nullptr);
  CHECK(say.text == "Thanks for calling <Acme> & Sons");
  CHECK(xml.find("Thanks for calling &lt;Acme&gt; &amp; Sons") != std::string::npos);

  const TwimlNode& gather = root->children[1];
  CHECK(gather.tag == "Gather");
  CHECK(*gather.Attr("input") == "dtmf");
  CHECK(*gather.Attr("numDigits") == "1");
  CHECK(*gather.Attr("timeout") == "5");
  CHECK(*gather.Attr("finishOnKey") == "#");
  CHECK(*gather.Attr("action") == "https://hooks.example.com/webhooks/twilio/gather?i=static-1&s=1");
  CHECK(*gather.Attr("method") == "POST");
  CHECK(*gather.Attr("actionOnEmptyResult") == "true");
  REQUIRE(gather.children.size() == 2);
  CHECK(gather.children[0].tag == "Say");
  CHECK(gather.children[1].tag == "Play");
  CHECK(gather.children[1].text == "https://a/b.mp3");

  const TwimlNode& dial = root->children[2];
  CHECK(dial.tag == "Dial");
  CHECK(*dial.Attr("timeout") == "20");
  CHECK(*dial.Attr("callerId") == "+15550001111");
  CHECK(*dial.Attr("record") == "record-from-answer");
  CHECK(*dial.Attr("action") ==
        "https://hooks.example.com/webhooks/twilio/dial?tenant=t1&i=static-1&s=2");
  REQUIRE(dial.children.size() == 3);
  CHECK(dial.children[0].tag == "Number");
  CHECK(dial.children[0].text == "+15551230001");
  CHECK(dial.children[1].tag == "Client");
  CHECK(dial.children[1].text == "bob");
  CHECK(dial.children[2].tag == "Sip");
  CHECK(dial.children[2].text == "sip:desk@pbx.example.com");

  const TwimlNode& record = root->children[3];
  CHECK(record.tag == "Record");
  CHECK(*record.Attr("maxLength") == "120");
  CHECK(*record.Attr("playBeep") == "true");
  CHECK(*record.Attr("finishOnKey") == "#");
  CHECK(*record.Attr("timeout") == "4");
  CHECK(*record.Attr("action") == "https://hooks.example.com/webhooks/twilio/record?i=static-1&s=3");
  CHECK(*record.Attr("recordingStatusCallback") ==
        "https://hooks.example.com/webhooks/twilio/recording?i=static-1&s=3");
  CHECK(*record.Attr("recordingStatusCallbackMethod") == "POST");

  CHECK(root->children[4].tag == "Pause");
  CHECK(*root->children[4].Attr("length") == "2");
  CHECK(root->children[5].tag == "Redirect");
  CHECK(root->children[5].text == "https://hooks.example.com/next?x=1&y=2");
  CHECK(*root->children[5].Attr("method") == "POST");
  CHECK(root->children[6].tag == "Hangup");
  CHECK(root->children[6].attrs.empty());
}

TEST_CASE("every Dial noun asks for the answered child-leg callback on the status route",
          "[twiml]") {
  TwimlOptions options = Options();
  options.dial_status_callback_url = "https://hooks.example.com/webhooks/twilio/status";
  absl::StatusOr<TwimlNode> root = ParseTwiml(RenderTwiml(StaticFlow(), options));
  REQUIRE(root.ok());
  const TwimlNode& dial = root->children[2];
  REQUIRE(dial.children.size() == 3);
  for (const TwimlNode& noun : dial.children) {
    INFO(noun.tag);
    REQUIRE(noun.Attr("statusCallback") != nullptr);
    // The set and the Dial's index ride on it, as on the action URLs.
    CHECK(*noun.Attr("statusCallback") ==
          "https://hooks.example.com/webhooks/twilio/status?i=" + StaticFlow().id + "&s=2");
    REQUIRE(noun.Attr("statusCallbackEvent") != nullptr);
    CHECK(*noun.Attr("statusCallbackEvent") == "answered");
    REQUIRE(noun.Attr("statusCallbackMethod") != nullptr);
    CHECK(*noun.Attr("statusCallbackMethod") == "POST");
  }
  CHECK(dial.children[1].text == "bob");  // the noun's value is unchanged
  // A later Dial of another set names its own set and index.
  CallInstructions other{.id = "xfer-2",
                         .instructions = {Say{.text = "hi"},
                                          Dial{.targets = {{DialTarget::Kind::kNumber,
                                                            "+15551230009"}}}}};
  absl::StatusOr<TwimlNode> transfer = ParseTwiml(RenderTwiml(other, options));
  REQUIRE(transfer.ok());
  REQUIRE(transfer->children[1].children.size() == 1);
  CHECK(*transfer->children[1].children[0].Attr("statusCallback") ==
        "https://hooks.example.com/webhooks/twilio/status?i=xfer-2&s=1");
  // Byte-exact, attributes in twilio-python's (alphabetical) order.
  CallInstructions client{.instructions = {Dial{.targets = {{DialTarget::Kind::kClient, "alice"},
                                                           {DialTarget::Kind::kNumber,
                                                            "+15551230001"}}}}};
  CHECK(RenderTwiml(client, TwimlOptions{.dial_status_callback_url = "https://h/s?a=1&b=2"}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial>)"
        R"(<Client statusCallback="https://h/s?a=1&amp;b=2" statusCallbackEvent="answered" )"
        R"(statusCallbackMethod="POST">alice</Client>)"
        R"(<Number statusCallback="https://h/s?a=1&amp;b=2" statusCallbackEvent="answered" )"
        R"(statusCallbackMethod="POST">+15551230001</Number></Dial></Response>)");
  // Without the option (as before) the nouns carry no callback.
  absl::StatusOr<TwimlNode> plain = ParseTwiml(RenderTwiml(StaticFlow(), Options()));
  REQUIRE(plain.ok());
  for (const TwimlNode& noun : plain->children[2].children) CHECK(noun.attrs.empty());
}

TEST_CASE("defaults omit attributes; playBeep false and empty finishOnKey are kept", "[twiml]") {
  CallInstructions in{.instructions = {Gather{.finish_on_key = ""},
                                       Record{.play_beep = false}, Pause{}}};
  absl::StatusOr<TwimlNode> root = ParseTwiml(RenderTwiml(in, {}));
  REQUIRE(root.ok());
  const TwimlNode& gather = root->children[0];
  CHECK(gather.Attr("numDigits") == nullptr);
  CHECK(gather.Attr("timeout") == nullptr);
  CHECK(gather.Attr("action") == nullptr);  // no action URL configured
  REQUIRE(gather.Attr("finishOnKey") != nullptr);
  CHECK(gather.Attr("finishOnKey")->empty());
  CHECK(*root->children[1].Attr("playBeep") == "false");
  CHECK(root->children[1].Attr("maxLength") == nullptr);
  CHECK(root->children[2].attrs.empty());
}

TEST_CASE("start_index resumes after an action with absolute indices", "[twiml]") {
  TwimlOptions options = Options();
  options.start_index = 2;
  absl::StatusOr<TwimlNode> root = ParseTwiml(RenderTwiml(StaticFlow(), options));
  REQUIRE(root.ok());
  REQUIRE(root->children.size() == 5);
  CHECK(root->children[0].tag == "Dial");
  CHECK(root->children[0].Attr("action")->find("s=2") != std::string::npos);
  options.start_index = 7;
  CHECK(RenderTwiml(StaticFlow(), options) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

TEST_CASE("a conference Dial renders <Conference> with its status callback", "[twiml][conference]") {
  TwimlOptions options = Options();
  options.dial_status_callback_url = "https://hooks.example.com/webhooks/twilio/status";
  options.conference_status_callback_url = "https://hooks.example.com/webhooks/twilio/conference";
  CallInstructions set{.id = "conf-1",
                       .instructions = {Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                          .value = "sb-call-1",
                                                          .end_on_exit = true}}}}};
  CHECK(RenderTwiml(set, options) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial )"
        R"(action="https://hooks.example.com/webhooks/twilio/dial?tenant=t1&amp;i=conf-1&amp;s=0" )"
        R"(method="POST"><Conference startConferenceOnEnter="true" endConferenceOnExit="true" )"
        R"(statusCallback="https://hooks.example.com/webhooks/twilio/conference" )"
        R"(statusCallbackEvent="join leave end" statusCallbackMethod="POST">sb-call-1)"
        R"(</Conference></Dial></Response>)");
  // end_on_exit false; without a callback URL no callback attributes.
  std::get<Dial>(set.instructions[0]).targets[0].end_on_exit = false;
  absl::StatusOr<TwimlNode> root = ParseTwiml(RenderTwiml(set, TwimlOptions{}));
  REQUIRE(root.ok());
  const TwimlNode& conference = root->children[0].children[0];
  CHECK(conference.tag == "Conference");
  CHECK(*conference.Attr("endConferenceOnExit") == "false");
  CHECK(conference.Attr("statusCallback") == nullptr);
  CHECK(conference.text == "sb-call-1");
}

TEST_CASE("ParseTwiml rejects malformed documents", "[twiml]") {
  CHECK(ParseTwiml("<Response><Say>x</Response>").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ParseTwiml("<Other/>").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseTwiml("").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::carrier
