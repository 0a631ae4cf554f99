// Audio formats for the media service (issue 6): WAV and MP3 validation with duration, text to
// speech (espeak-ng) and normalisation to the telephone format carriers play well (8 kHz, mono,
// 16-bit PCM WAV). Pure functions over byte strings; no files, no network.
//
// Thread-safety: every function is safe from any thread. espeak-ng keeps global state, so
// Synthesize() serialises synthesis behind one process-wide mutex.
//
// Errors: kInvalidArgument with the reason ("audio: truncated WAV: data chunk declares 800 bytes,
// 20 present") for anything that is not valid audio of a supported kind; kInternal when
// espeak-ng or libsoxr fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::audio {

enum class AudioFormat { kWav, kMp3 };

// "wav" | "mp3".
const char* FormatName(AudioFormat format);

// The telephone format: every rendered or normalised WAV has these parameters.
inline constexpr uint32_t kTelephoneSampleRate = 8000;

struct WavInfo {
  uint16_t format_tag = 0;  // 1 = PCM, 3 = IEEE float, 6 = A-law, 7 = mu-law, 0xFFFE extensible
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  uint16_t bits_per_sample = 0;
  uint16_t block_align = 0;
  uint64_t data_offset = 0;  // byte offset of the sample data in the file
  uint64_t data_bytes = 0;
  absl::Duration duration;   // data_bytes / (sample_rate * block_align)
};

// Parses a RIFF/WAVE file: chunks walked in order (unknown chunks skipped, odd sizes padded),
// `fmt ` before `data`, PCM (8/16/24/32-bit), IEEE float (32/64), A-law/mu-law (8) or
// WAVE_FORMAT_EXTENSIBLE wrapping PCM/float. A data chunk longer than the file (truncated), a
// missing chunk, zero channels/rate, a block align that does not match, or a data size that is
// not a whole number of frames is kInvalidArgument naming the problem.
absl::StatusOr<WavInfo> ParseWav(absl::string_view bytes);

struct Mp3Info {
  int frames = 0;
  uint32_t sample_rate = 0;  // of the first frame
  int channels = 0;
  absl::Duration duration;   // sum of the frames' sample counts / sample rate
};

// Parses an MPEG audio (layer I/II/III, MPEG 1/2/2.5) stream: skips a leading ID3v2 tag, walks
// the frame headers to the end (a trailing ID3v1 "TAG" block is allowed) and sums the frames.
// Not MPEG audio, fewer than 2 consecutive valid frames, or a frame cut short: kInvalidArgument.
absl::StatusOr<Mp3Info> ParseMp3(absl::string_view bytes);

struct AudioInfo {
  AudioFormat format = AudioFormat::kWav;
  absl::Duration duration;
  uint32_t sample_rate = 0;
  int channels = 0;
};

// Detects WAV ("RIFF....WAVE") or MP3 (ID3v2 tag or frame sync) and validates it as above.
// Empty input, or neither format: kInvalidArgument ("audio: empty", "audio: unknown format").
absl::StatusOr<AudioInfo> DetectAudio(absl::string_view bytes);

// A 44-byte-header WAV around 16-bit little-endian PCM `samples` (interleaved when channels > 1).
std::string PcmWav(const std::vector<int16_t>& samples, uint32_t sample_rate = kTelephoneSampleRate,
                   uint16_t channels = 1);

// Converts a WAV of any supported encoding, channel count and rate to 8 kHz mono 16-bit PCM
// (channels averaged, resampled with libsoxr high quality). MP3 input is kInvalidArgument
// ("audio: MP3 cannot be normalised; upload WAV") since no MP3 decoder is linked.
absl::StatusOr<std::string> NormalizeToTelephoneWav(absl::string_view bytes);

struct SynthesisOptions {
  std::string voice;     // espeak-ng voice name, e.g. "en-us", "de", "fr"; "" = from language
  std::string language;  // BCP 47-ish, e.g. "en-US"; used when voice is empty; "" = "en-us"
  int words_per_minute = 160;
};

// Speech of `text` as an 8 kHz mono 16-bit WAV. kInvalidArgument for empty text, text over 4096
// bytes, or an unknown voice/language (naming "voice" or "language"); kInternal when espeak-ng
// cannot initialise (espeak-ng-data missing) or libsoxr fails.
absl::StatusOr<std::string> Synthesize(absl::string_view text, const SynthesisOptions& options);

}  // namespace switchboard::audio
