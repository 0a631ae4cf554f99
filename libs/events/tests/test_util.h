// Helpers shared by the events integration tests.
#pragma once

#include <string>

#include "libs/common/clock.h"
#include "libs/events/event.h"

namespace switchboard::events::test {

inline v1::Event TestEvent(const std::string& company, const std::string& aggregate,
                           const std::string& text, int64_t sequence) {
  v1::Event e = NewEvent("test.happened", company, aggregate, "test", SystemClock());
  e.mutable_test()->set_text(text);
  e.mutable_test()->set_sequence(sequence);
  return e;
}

}  // namespace switchboard::events::test
