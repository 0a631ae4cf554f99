// routing-seed: saves the Powers Electric demo routing (demo_flow.h) through the routing API and
// points the main line at its flow through numbers.SetLineFlow. Used by `./tools/dev up` after
// the company, users and numbers are seeded. Idempotent: entities are upserted by id, the flow
// gets a new version only when its content differs from the latest, SetLineFlow only when the
// line runs another flow. Prints one JSON line with what it did. Exit code 1 on any error
// (the message names the RPC and the field).
#include <chrono>
#include <iostream>
#include <string>

#include <grpcpp/create_channel.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "libs/grpc/principal.h"
#include "services/routing/demo_flow.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

ABSL_FLAG(std::string, routing, "127.0.0.1:50054", "routing service host:port");
ABSL_FLAG(std::string, numbers, "127.0.0.1:50053", "numbers service host:port");
ABSL_FLAG(std::string, company_id, "", "the demo company (required)");
ABSL_FLAG(std::string, owner_id, "", "the owner's user id, acting (required)");
ABSL_FLAG(std::string, robert, "", "user id of Robert Smith (required)");
ABSL_FLAG(std::string, sarah, "", "user id of Sarah Johnson (required)");
ABSL_FLAG(std::string, mike, "", "user id of Mike Torres (required)");
ABSL_FLAG(std::string, jake, "", "user id of Jake Williams (required)");
ABSL_FLAG(std::string, tyler, "", "user id of Tyler Chen (required)");
ABSL_FLAG(std::string, main_number, "+12035550100",
          "E.164 of the main line, set to run the flow through numbers SetLineFlow; empty = "
          "save the configuration only");

namespace {

namespace sb = switchboard;
namespace rv1 = switchboard::routing::v1;
namespace nv1 = switchboard::numbers::v1;

sb::rpc::Principal g_owner;

void Prepare(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  sb::rpc::AttachPrincipal(ctx, g_owner);
}

[[noreturn]] void Fail(const std::string& what, const grpc::Status& s) {
  std::cerr << "routing-seed: " << what << ": " << s.error_message() << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sb::routing::DemoUsers users{absl::GetFlag(FLAGS_robert), absl::GetFlag(FLAGS_sarah),
                               absl::GetFlag(FLAGS_mike), absl::GetFlag(FLAGS_jake),
                               absl::GetFlag(FLAGS_tyler)};
  g_owner = sb::rpc::Principal{.company_id = absl::GetFlag(FLAGS_company_id),
                               .user_id = absl::GetFlag(FLAGS_owner_id),
                               .role = "owner"};
  if (g_owner.company_id.empty() || g_owner.user_id.empty() || users.robert.empty() ||
      users.sarah.empty() || users.mike.empty() || users.jake.empty() || users.tyler.empty()) {
    std::cerr << "routing-seed: --company_id, --owner_id, --robert, --sarah, --mike, --jake and "
                 "--tyler are required\n";
    return 2;
  }
  auto routing = rv1::Routing::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_routing), grpc::InsecureChannelCredentials()));
  auto numbers = nv1::Numbers::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_numbers), grpc::InsecureChannelCredentials()));
  const sb::routing::DemoConfig demo = sb::routing::PowersElectricDemo(users);

  {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::NamedSchedule out;
    grpc::Status s = routing->SaveSchedule(&ctx, demo.schedule, &out);
    if (!s.ok()) Fail("SaveSchedule", s);
  }
  {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::NamedRotation out;
    grpc::Status s = routing->SaveOnCallRotation(&ctx, demo.rotation, &out);
    if (!s.ok()) Fail("SaveOnCallRotation", s);
  }
  for (const rv1::VoicemailBox& b : demo.boxes) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::VoicemailBox out;
    grpc::Status s = routing->SaveVoicemailBox(&ctx, b, &out);
    if (!s.ok()) Fail(absl::StrCat("SaveVoicemailBox ", b.id()), s);
  }
  for (const rv1::RingGroup& g : demo.groups) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::RingGroup out;
    grpc::Status s = routing->SaveRingGroup(&ctx, g, &out);
    if (!s.ok()) Fail(absl::StrCat("SaveRingGroup ", g.id()), s);
  }
  int64_t version = 0;
  bool saved = false;
  {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::GetFlowRequest req;
    req.set_flow_id(demo.main_flow.id());
    rv1::Flow latest;
    grpc::Status s = routing->GetFlow(&ctx, req, &latest);
    if (s.ok()) {
      rv1::Flow a = latest, b = demo.main_flow;
      for (rv1::Flow* f : {&a, &b}) {
        f->clear_version();
        f->clear_created_at();
        f->clear_created_by();
        f->clear_company_id();
      }
      if (google::protobuf::util::MessageDifferencer::Equals(a, b)) version = latest.version();
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      Fail("GetFlow", s);
    }
  }
  if (version == 0) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    rv1::SaveFlowRequest req;
    *req.mutable_flow() = demo.main_flow;
    rv1::SaveFlowResponse out;
    grpc::Status s = routing->SaveFlow(&ctx, req, &out);
    if (!s.ok()) Fail("SaveFlow", s);
    version = out.flow().version();
    saved = true;
  }
  const std::string main_number = absl::GetFlag(FLAGS_main_number);
  if (main_number.empty()) {  // configuration only; the line is linked elsewhere
    std::cout << "{\"flow_id\":\"" << demo.main_flow.id() << "\",\"version\":" << version
              << ",\"saved\":" << (saved ? "true" : "false") << "}\n";
    return 0;
  }
  nv1::ListNumbersResponse list;
  {
    grpc::ClientContext ctx;
    Prepare(ctx);
    grpc::Status s = numbers->ListNumbers(&ctx, nv1::ListNumbersRequest(), &list);
    if (!s.ok()) Fail("numbers ListNumbers", s);
  }
  const nv1::Number* main = nullptr;
  for (const nv1::Number& n : list.numbers()) {
    if (n.e164() == main_number) main = &n;
  }
  if (main == nullptr) {
    std::cerr << "routing-seed: the company has no number " << main_number << "\n";
    return 1;
  }
  bool linked = false;
  if (main->flow_id() != demo.main_flow.id()) {
    grpc::ClientContext ctx;
    Prepare(ctx);
    nv1::SetLineFlowRequest req;
    req.set_line_id(main->line_id());
    req.set_flow_id(demo.main_flow.id());
    nv1::Number out;
    grpc::Status s = numbers->SetLineFlow(&ctx, req, &out);
    if (!s.ok()) Fail("numbers SetLineFlow", s);
    linked = true;
  }
  std::cout << "{\"flow_id\":\"" << demo.main_flow.id() << "\",\"version\":" << version
            << ",\"saved\":" << (saved ? "true" : "false") << ",\"main_line\":\""
            << main->line_id() << "\",\"linked\":" << (linked ? "true" : "false") << "}\n";
  return 0;
}
