// Text-to-speech for the carrier emulator: a scenario's `{"on":"record","speak":"text"}` becomes
// real speech in the recording the emulator serves.
//
// SpeakWav synthesises `text` with the espeak-ng library (voice "en-us", 175 words/min; its
// native output is 16-bit mono at 22050 Hz) and resamples it with libsoxr (high quality) to the
// emulator's recording format: RIFF WAV, PCM 16-bit, mono, 8000 Hz.
//
// Why the library and not the `espeak-ng` CLI: no child process per recording (the emulator is
// multi-threaded and may run many calls), no temporary files, and no dependency on PATH; the
// Debian packages are libespeak-ng-dev (+ espeak-ng-data, its voices) and libsoxr-dev.
//
// Thread-safety: espeak-ng keeps global state, so every synthesis is serialised behind one
// process-wide mutex (espeak-ng is initialised once, on first use). Safe from any thread.
//
// Errors: kInvalidArgument for empty text or text over 4096 bytes; kInternal when espeak-ng
// cannot initialise (voice data missing) or synthesise, or libsoxr fails to resample.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::carrier_emulator {

inline constexpr uint32_t kRecordingSampleRate = 8000;

// A complete WAV file (44-byte header + data) of 8 kHz mono 16-bit PCM speech of `text`.
absl::StatusOr<std::string> SpeakWav(absl::string_view text);

// A 44-byte-header WAV file around `samples` (8 kHz mono 16-bit PCM, little-endian).
std::string PcmWav(const std::vector<int16_t>& samples);

}  // namespace switchboard::carrier_emulator
