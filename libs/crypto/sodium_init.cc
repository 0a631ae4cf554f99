#include "libs/crypto/sodium_init.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace switchboard::crypto::internal {

void EnsureSodiumInitialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

}  // namespace switchboard::crypto::internal
