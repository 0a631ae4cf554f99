#include "services/carrier/twiml.h"

#include <sstream>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "pugixml.hpp"

namespace switchboard::carrier {
namespace {

void AddAttr(TwimlNode& node, const char* name, std::string value) {
  node.attrs.emplace_back(name, std::move(value));
}

void AddIntAttr(TwimlNode& node, const char* name, int value) {
  if (value > 0) AddAttr(node, name, absl::StrCat(value));
}

// `url` with i=<id>&s=<index> appended to its query when the instructions have an id.
std::string ActionUrl(const std::string& url, const CallInstructions& instructions, int index) {
  if (instructions.id.empty()) return url;
  size_t hash = url.find('#');
  std::string base = url.substr(0, hash);
  std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
  const char* sep = base.find('?') == std::string::npos ? "?" : "&";
  return absl::StrCat(base, sep, "i=", instructions.id, "&s=", index, fragment);
}

TwimlNode SayNode(const Say& say) {
  TwimlNode node{.tag = "Say"};
  if (!say.voice.empty()) AddAttr(node, "voice", say.voice);
  if (!say.language.empty()) AddAttr(node, "language", say.language);
  AddIntAttr(node, "loop", say.loop);
  node.text = say.text;
  return node;
}

TwimlNode PlayNode(const Play& play) {
  TwimlNode node{.tag = "Play"};
  AddIntAttr(node, "loop", play.loop);
  node.text = play.url;
  return node;
}

struct VerbBuilder {
  const CallInstructions& instructions;
  const TwimlOptions& options;
  int index;

  TwimlNode operator()(const Say& say) const { return SayNode(say); }
  TwimlNode operator()(const Play& play) const { return PlayNode(play); }
  TwimlNode operator()(const Gather& gather) const {
    TwimlNode node{.tag = "Gather"};
    AddAttr(node, "input", "dtmf");
    AddIntAttr(node, "numDigits", gather.num_digits);
    AddIntAttr(node, "timeout", gather.timeout_s);
    if (gather.finish_on_key.has_value()) AddAttr(node, "finishOnKey", *gather.finish_on_key);
    if (!options.gather_action_url.empty()) {
      AddAttr(node, "action", ActionUrl(options.gather_action_url, instructions, index));
      AddAttr(node, "method", "POST");
      AddAttr(node, "actionOnEmptyResult", "true");
    }
    for (const Prompt& prompt : gather.prompts) {
      node.children.push_back(std::visit(
          [](const auto& p) {
            if constexpr (std::is_same_v<std::decay_t<decltype(p)>, Say>) {
              return SayNode(p);
            } else {
              return PlayNode(p);
            }
          },
          prompt));
    }
    return node;
  }
  TwimlNode operator()(const Dial& dial) const {
    TwimlNode node{.tag = "Dial"};
    AddIntAttr(node, "timeout", dial.timeout_s);
    if (!dial.caller_id.empty()) AddAttr(node, "callerId", dial.caller_id);
    if (dial.record) AddAttr(node, "record", "record-from-answer");
    if (!options.dial_action_url.empty()) {
      AddAttr(node, "action", ActionUrl(options.dial_action_url, instructions, index));
      AddAttr(node, "method", "POST");
    }
    for (const DialTarget& target : dial.targets) {
      if (target.kind == DialTarget::Kind::kConference) {
        TwimlNode noun{.tag = "Conference", .text = target.value};
        AddAttr(noun, "startConferenceOnEnter", "true");
        AddAttr(noun, "endConferenceOnExit", target.end_on_exit ? "true" : "false");
        if (!options.conference_status_callback_url.empty()) {
          AddAttr(noun, "statusCallback", options.conference_status_callback_url);
          AddAttr(noun, "statusCallbackEvent", "join leave end");
          AddAttr(noun, "statusCallbackMethod", "POST");
        }
        node.children.push_back(std::move(noun));
        continue;
      }
      const char* tag = target.kind == DialTarget::Kind::kNumber   ? "Number"
                        : target.kind == DialTarget::Kind::kClient ? "Client"
                                                                   : "Sip";
      TwimlNode noun{.tag = tag, .text = target.value};
      if (!options.dial_status_callback_url.empty()) {
        AddAttr(noun, "statusCallback",
                ActionUrl(options.dial_status_callback_url, instructions, index));
        AddAttr(noun, "statusCallbackEvent", "answered");
        AddAttr(noun, "statusCallbackMethod", "POST");
      }
      node.children.push_back(std::move(noun));
    }
    return node;
  }
  TwimlNode operator()(const Record& record) const {
    TwimlNode node{.tag = "Record"};
    AddIntAttr(node, "maxLength", record.max_length_s);
    AddAttr(node, "playBeep", record.play_beep ? "true" : "false");
    if (record.finish_on_key.has_value()) AddAttr(node, "finishOnKey", *record.finish_on_key);
    AddIntAttr(node, "timeout", record.timeout_s);
    if (!options.record_action_url.empty()) {
      AddAttr(node, "action", ActionUrl(options.record_action_url, instructions, index));
      AddAttr(node, "method", "POST");
    }
    if (!options.recording_status_callback_url.empty()) {
      AddAttr(node, "recordingStatusCallback",
              ActionUrl(options.recording_status_callback_url, instructions, index));
      AddAttr(node, "recordingStatusCallbackMethod", "POST");
    }
    return node;
  }
  TwimlNode operator()(const Redirect& redirect) const {
    TwimlNode node{.tag = "Redirect"};
    AddAttr(node, "method", "POST");
    node.text = redirect.url;
    return node;
  }
  TwimlNode operator()(const Pause& pause) const {
    TwimlNode node{.tag = "Pause"};
    AddIntAttr(node, "length", pause.length_s);
    return node;
  }
  TwimlNode operator()(const Hangup&) const { return TwimlNode{.tag = "Hangup"}; }
};

void AppendNode(pugi::xml_node parent, const TwimlNode& node) {
  pugi::xml_node element = parent.append_child(node.tag.c_str());
  for (const auto& [name, value] : node.attrs) {
    element.append_attribute(name.c_str()).set_value(value.c_str());
  }
  if (!node.text.empty()) {
    element.append_child(pugi::node_pcdata).set_value(node.text.c_str());
  }
  for (const TwimlNode& child : node.children) AppendNode(element, child);
}

TwimlNode FromXml(const pugi::xml_node& element) {
  TwimlNode node{.tag = element.name()};
  for (const pugi::xml_attribute& attr : element.attributes()) {
    node.attrs.emplace_back(attr.name(), attr.value());
  }
  for (const pugi::xml_node& child : element.children()) {
    if (child.type() == pugi::node_element) {
      node.children.push_back(FromXml(child));
    } else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      node.text += child.value();
    }
  }
  if (node.text.find_first_not_of(" \t\r\n") == std::string::npos) node.text.clear();
  return node;
}

}  // namespace

const std::string* TwimlNode::Attr(absl::string_view name) const {
  for (const auto& [key, value] : attrs) {
    if (key == name) return &value;
  }
  return nullptr;
}

TwimlNode BuildTwimlTree(const CallInstructions& instructions, const TwimlOptions& options) {
  TwimlNode root{.tag = "Response"};
  size_t first = options.start_index > 0 ? static_cast<size_t>(options.start_index) : 0;
  for (size_t i = first; i < instructions.instructions.size(); ++i) {
    VerbBuilder builder{instructions, options, static_cast<int>(i)};
    root.children.push_back(std::visit(builder, instructions.instructions[i]));
  }
  return root;
}

std::string SerializeTwiml(const TwimlNode& root) {
  pugi::xml_document doc;
  AppendNode(doc, root);
  std::ostringstream out;
  out << R"(<?xml version="1.0" encoding="UTF-8"?>)";
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

std::string RenderTwiml(const CallInstructions& instructions, const TwimlOptions& options) {
  return SerializeTwiml(BuildTwimlTree(instructions, options));
}

absl::StatusOr<TwimlNode> ParseTwiml(absl::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result result =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_declaration,
                      pugi::encoding_utf8);
  if (!result) {
    return absl::InvalidArgumentError(
        absl::StrCat("twiml: not well-formed XML: ", result.description(), " at offset ",
                     result.offset));
  }
  pugi::xml_node root = doc.document_element();
  if (std::string(root.name()) != "Response") {
    return absl::InvalidArgumentError(
        absl::StrCat("twiml: root element is <", root.name(), ">, want <Response>"));
  }
  return FromXml(root);
}

}  // namespace switchboard::carrier
