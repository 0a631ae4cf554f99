// Small helpers shared by the benchmark tools' main()s.
#pragma once

#include <errno.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"

namespace switchboard::bench {

// argv[i] as an int of at least `min`, or `fallback` when there are fewer arguments. A bad
// value prints "bad argument i: '...'" and exits 2.
inline int IntArg(int argc, char** argv, int i, int fallback, int min = 1) {
  int v = fallback;
  if (argc > i && (!absl::SimpleAtoi(argv[i], &v) || v < min)) {
    std::fprintf(stderr, "%s: bad argument %d: '%s' (an integer >= %d)\n",
                 program_invocation_short_name, i, argv[i], min);
    std::exit(2);
  }
  return v;
}

// Prints "<tool>: <what>: <status>" and returns 1, main()'s exit code for a failed step.
inline int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
               s.ToString().c_str());
  return 1;
}

}  // namespace switchboard::bench
