#include "libs/crypto/random.h"

#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"

namespace switchboard::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0) FillRandom(out.data(), n);
  return out;
}

std::string RandomToken(size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

}  // namespace switchboard::crypto
