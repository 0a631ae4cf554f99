#include "tools/carrier-emulator/speech.h"

#include <espeak-ng/speak_lib.h>
#include <soxr.h>

#include <cmath>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace switchboard::carrier_emulator {

namespace {

constexpr size_t kMaxTextBytes = 4096;

void PutLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

absl::Mutex& EspeakMutex() {
  static absl::Mutex* mu = new absl::Mutex();
  return *mu;
}

int espeak_rate ABSL_GUARDED_BY(EspeakMutex()) = 0;  // 0 = not initialised, < 0 = failed

// espeak-ng's synchronous callback: appends the chunk to the vector passed as user_data.
int CollectSamples(short* wav, int count, espeak_EVENT* events) {
  if (wav != nullptr && count > 0 && events != nullptr && events->user_data != nullptr) {
    auto* out = static_cast<std::vector<int16_t>*>(events->user_data);
    out->insert(out->end(), wav, wav + count);
  }
  return 0;  // continue
}

}  // namespace

std::string PcmWav(const std::vector<int16_t>& samples) {
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::string out = "RIFF";
  PutLe(out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLe(out, 16, 4);                         // fmt chunk size
  PutLe(out, 1, 2);                          // PCM
  PutLe(out, 1, 2);                          // mono
  PutLe(out, kRecordingSampleRate, 4);       // sample rate
  PutLe(out, kRecordingSampleRate * 2, 4);   // byte rate
  PutLe(out, 2, 2);                          // block align
  PutLe(out, 16, 2);                         // bits per sample
  out += "data";
  PutLe(out, data_bytes, 4);
  out.reserve(out.size() + data_bytes);
  for (int16_t s : samples) PutLe(out, static_cast<uint16_t>(s), 2);
  return out;
}

absl::StatusOr<std::string> SpeakWav(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("speak: text is empty");
  if (text.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat("speak: text over ", kMaxTextBytes, " bytes"));
  }
  std::vector<int16_t> native;
  int rate = 0;
  {
    absl::MutexLock lock(&EspeakMutex());
    if (espeak_rate == 0) {
      espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
      if (espeak_rate > 0) {
        espeak_SetSynthCallback(&CollectSamples);
        if (espeak_SetVoiceByName("en-us") != EE_OK) (void)espeak_SetVoiceByName("en");
        espeak_SetParameter(espeakRATE, espeakRATE_NORMAL, 0);
      } else {
        espeak_rate = -1;
      }
    }
    if (espeak_rate < 0) {
      return absl::InternalError("speak: espeak-ng failed to initialise (espeak-ng-data missing?)");
    }
    rate = espeak_rate;
    const std::string copy(text);  // NUL-terminated
    const espeak_ERROR error =
        espeak_Synth(copy.c_str(), copy.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                     nullptr, &native);
    if (error != EE_OK) {
      return absl::InternalError(absl::StrCat("speak: espeak-ng synthesis failed (", error, ")"));
    }
  }
  if (native.empty()) return absl::InternalError("speak: espeak-ng produced no audio");
  // Resample rate -> 8000 Hz.
  const double ratio = static_cast<double>(kRecordingSampleRate) / rate;
  std::vector<int16_t> out(static_cast<size_t>(std::ceil(native.size() * ratio)) + 16);
  size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t error = soxr_oneshot(rate, kRecordingSampleRate, 1, native.data(), native.size(),
                                    nullptr, out.data(), out.size(), &done, &io, &quality,
                                    nullptr);
  if (error != nullptr) return absl::InternalError(absl::StrCat("speak: resampling: ", error));
  out.resize(done);
  return PcmWav(out);
}

}  // namespace switchboard::carrier_emulator
