// A local HTTP server (libs/http Server on 127.0.0.1, port 0) that answers canned responses per
// (method, path) and records every request, for provider tests that assert the exact wire
// request. Responses for one route are served in order; the last one repeats.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "libs/http/server.h"
#include "libs/http/url.h"

namespace switchboard::carrier::testing {

struct Canned {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class FakeHttpServer {
 public:
  void On(const std::string& method, const std::string& path, std::vector<Canned> responses) {
    routes_[{method, path}] = std::move(responses);
  }

  void Start() {
    http::Router router;
    for (auto& [key, responses] : routes_) {
      auto state = std::make_shared<std::pair<std::vector<Canned>, size_t>>(responses, 0);
      router.Add(key.first, key.second, [this, state](const http::Request& r) {
        absl::MutexLock lock(&mu_);
        requests_.push_back(r);
        const Canned& c = state->first[std::min(state->second, state->first.size() - 1)];
        ++state->second;
        http::Response response{.status = c.status, .body = c.body};
        response.headers.emplace_back("Content-Type", c.content_type);
        return response;
      });
    }
    auto server = http::Server::Start({.port = 0, .threads = 2}, std::move(router));
    REQUIRE(server.ok());
    server_ = std::move(*server);
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  std::vector<http::Request> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  http::Request last() {
    absl::MutexLock lock(&mu_);
    REQUIRE(!requests_.empty());
    return requests_.back();
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return requests_.size();
  }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<Canned>> routes_;
  absl::Mutex mu_;
  std::vector<http::Request> requests_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<http::Server> server_;  // last: stopped before the state handlers use
};

// The value of the first form/query field `name`, or "<missing>".
inline std::string Field(const http::Params& params, const std::string& name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "<missing>";
}

inline std::vector<std::string> Fields(const http::Params& params, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

}  // namespace switchboard::carrier::testing
