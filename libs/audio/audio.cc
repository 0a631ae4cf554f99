#include "libs/audio/audio.h"

#include <espeak-ng/speak_lib.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"

namespace switchboard::audio {

namespace {

constexpr size_t kMaxTextBytes = 4096;

uint32_t Le(absl::string_view b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

void PutLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("audio: ", why));
}

// --- MP3 -----------------------------------------------------------------------------------

struct FrameHeader {
  uint32_t sample_rate = 0;
  int samples = 0;
  size_t length = 0;
  int channels = 0;
};

// Decodes a 4-byte MPEG audio frame header; false when it is not one (free bitrate rejected).
bool DecodeFrameHeader(absl::string_view b, size_t at, FrameHeader* out) {
  if (at + 4 > b.size()) return false;
  const auto b0 = static_cast<uint8_t>(b[at]), b1 = static_cast<uint8_t>(b[at + 1]),
             b2 = static_cast<uint8_t>(b[at + 2]), b3 = static_cast<uint8_t>(b[at + 3]);
  if (b0 != 0xFF || (b1 & 0xE0) != 0xE0) return false;
  const int version = (b1 >> 3) & 3;  // 0 = 2.5, 1 = reserved, 2 = 2, 3 = 1
  const int layer = (b1 >> 1) & 3;    // 1 = III, 2 = II, 3 = I
  const int bitrate_index = b2 >> 4;
  const int rate_index = (b2 >> 2) & 3;
  const int padding = (b2 >> 1) & 1;
  if (version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3) {
    return false;
  }
  static constexpr int kV1[3][15] = {
      {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},   // layer I
      {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},      // layer II
      {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}};      // layer III
  static constexpr int kV2[2][15] = {
      {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},     // layer I
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}};         // layer II/III
  static constexpr uint32_t kRates[3] = {44100, 48000, 32000};
  const int layer_no = 4 - layer;  // 1, 2, 3
  const int kbps = version == 3 ? kV1[layer_no - 1][bitrate_index]
                                : kV2[layer_no == 1 ? 0 : 1][bitrate_index];
  uint32_t rate = kRates[rate_index];
  if (version == 2) rate /= 2;
  if (version == 0) rate /= 4;
  const uint32_t bps = static_cast<uint32_t>(kbps) * 1000;
  int samples = 1152;
  size_t length = 0;
  if (layer_no == 1) {
    samples = 384;
    length = (12 * bps / rate + padding) * 4;
  } else if (layer_no == 3 && version != 3) {
    samples = 576;
    length = 72 * bps / rate + padding;
  } else {
    length = 144 * bps / rate + padding;
  }
  if (length < 4) return false;
  *out = FrameHeader{rate, samples, length, ((b3 >> 6) == 3) ? 1 : 2};
  return true;
}

// --- WAV decoding for normalisation --------------------------------------------------------

int16_t AlawToLinear(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  const int seg = (a & 0x70) >> 4;
  if (seg == 0) {
    t += 8;
  } else {
    t += 0x108;
    if (seg > 1) t <<= seg - 1;
  }
  return static_cast<int16_t>((a & 0x80) ? t : -t);
}

int16_t UlawToLinear(uint8_t u) {
  u = ~u;
  int t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return static_cast<int16_t>((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

// One sample in [-1, 1] from the raw bytes at `p` for the WAV's encoding.
double SampleAt(const WavInfo& w, uint16_t tag, const unsigned char* p) {
  switch (tag) {
    case 6: return AlawToLinear(p[0]) / 32768.0;
    case 7: return UlawToLinear(p[0]) / 32768.0;
    case 3:
      if (w.bits_per_sample == 32) {
        float f;
        std::memcpy(&f, p, 4);
        return std::isfinite(f) ? std::clamp(static_cast<double>(f), -1.0, 1.0) : 0.0;
      } else {
        double d;
        std::memcpy(&d, p, 8);
        return std::isfinite(d) ? std::clamp(d, -1.0, 1.0) : 0.0;
      }
    default:
      break;
  }
  switch (w.bits_per_sample) {
    case 8: return (static_cast<int>(p[0]) - 128) / 128.0;
    case 16: return static_cast<int16_t>(p[0] | (p[1] << 8)) / 32768.0;
    case 24: {
      int32_t v = p[0] | (p[1] << 8) | (p[2] << 16);
      if (v & 0x800000) v -= 0x1000000;
      return v / 8388608.0;
    }
    default: {
      const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(p[0]) | (p[1] << 8) |
                                             (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24));
      return v / 2147483648.0;
    }
  }
}

// --- espeak-ng ----------------------------------------------------------------------------

absl::Mutex& EspeakMutex() {
  static absl::Mutex* mu = new absl::Mutex();
  return *mu;
}

int espeak_rate ABSL_GUARDED_BY(EspeakMutex()) = 0;  // 0 = not initialised, < 0 = failed

int CollectSamples(short* wav, int count, espeak_EVENT* events) {
  if (wav != nullptr && count > 0 && events != nullptr && events->user_data != nullptr) {
    auto* out = static_cast<std::vector<int16_t>*>(events->user_data);
    out->insert(out->end(), wav, wav + count);
  }
  return 0;
}

absl::StatusOr<std::string> Resample16(const std::vector<float>& mono, uint32_t from_rate) {
  if (mono.empty()) return PcmWav({});
  std::vector<int16_t> out;
  if (from_rate == kTelephoneSampleRate) {
    out.reserve(mono.size());
    for (float f : mono) {
      out.push_back(static_cast<int16_t>(std::lround(std::clamp(f, -1.0f, 32767.0f / 32768.0f) *
                                                     32768.0f)));
    }
    return PcmWav(out);
  }
  const double ratio = static_cast<double>(kTelephoneSampleRate) / from_rate;
  out.resize(static_cast<size_t>(std::ceil(mono.size() * ratio)) + 16);
  size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_INT16_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t error = soxr_oneshot(from_rate, kTelephoneSampleRate, 1, mono.data(), mono.size(),
                                    nullptr, out.data(), out.size(), &done, &io, &quality,
                                    nullptr);
  if (error != nullptr) return absl::InternalError(absl::StrCat("audio: resampling: ", error));
  out.resize(done);
  return PcmWav(out);
}

}  // namespace

const char* FormatName(AudioFormat format) {
  return format == AudioFormat::kMp3 ? "mp3" : "wav";
}

absl::StatusOr<WavInfo> ParseWav(absl::string_view b) {
  if (b.empty()) return Bad("empty");
  if (b.size() < 12 || b.substr(0, 4) != "RIFF" || b.substr(8, 4) != "WAVE") {
    return Bad("not a RIFF/WAVE file");
  }
  WavInfo info;
  bool have_fmt = false;
  size_t at = 12;
  while (true) {
    if (at + 8 > b.size()) {
      return Bad(have_fmt ? "truncated WAV: no data chunk" : "truncated WAV: no fmt chunk");
    }
    const absl::string_view id = b.substr(at, 4);
    const uint64_t size = Le(b, at + 4, 4);
    const size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + size > b.size()) return Bad("truncated WAV: fmt chunk");
      info.format_tag = static_cast<uint16_t>(Le(b, body, 2));
      info.channels = static_cast<uint16_t>(Le(b, body + 2, 2));
      info.sample_rate = Le(b, body + 4, 4);
      info.block_align = static_cast<uint16_t>(Le(b, body + 12, 2));
      info.bits_per_sample = static_cast<uint16_t>(Le(b, body + 14, 2));
      if (info.format_tag == 0xFFFE) {
        if (size < 40) return Bad("WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes");
        info.format_tag = static_cast<uint16_t>(Le(b, body + 24, 2));
      }
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return Bad("WAV data chunk before fmt chunk");
      if (body + size > b.size()) {
        return Bad(absl::StrCat("truncated WAV: data chunk declares ", size, " bytes, ",
                                b.size() - body, " present"));
      }
      info.data_offset = body;
      info.data_bytes = size;
      break;
    }
    at = body + size + (size & 1);
  }
  const uint16_t tag = info.format_tag;
  const uint16_t bits = info.bits_per_sample;
  const bool ok_encoding = (tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) ||
                           (tag == 3 && (bits == 32 || bits == 64)) ||
                           ((tag == 6 || tag == 7) && bits == 8);
  if (!ok_encoding) {
    return Bad(absl::StrCat("unsupported WAV encoding (format ", tag, ", ", bits, " bits)"));
  }
  if (info.channels == 0 || info.channels > 8) {
    return Bad(absl::StrCat("WAV channel count ", info.channels, " out of range 1..8"));
  }
  if (info.sample_rate < 1000 || info.sample_rate > 192000) {
    return Bad(absl::StrCat("WAV sample rate ", info.sample_rate, " out of range"));
  }
  if (info.block_align != info.channels * (bits / 8)) {
    return Bad(absl::StrCat("WAV block align ", info.block_align, " does not match ",
                            info.channels, " channels of ", bits, " bits"));
  }
  if (info.data_bytes % info.block_align != 0) {
    return Bad("truncated WAV: data is not a whole number of frames");
  }
  const uint64_t frames = info.data_bytes / info.block_align;
  info.duration = absl::Microseconds(static_cast<int64_t>(frames * 1000000 / info.sample_rate));
  return info;
}

absl::StatusOr<Mp3Info> ParseMp3(absl::string_view b) {
  if (b.empty()) return Bad("empty");
  size_t at = 0;
  if (b.size() >= 10 && b.substr(0, 3) == "ID3") {
    const auto s = [&](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(b[6 + i])); };
    if ((s(0) | s(1) | s(2) | s(3)) & 0x80) return Bad("MP3 ID3v2 tag size is not syncsafe");
    const uint32_t size = (s(0) << 21) | (s(1) << 14) | (s(2) << 7) | s(3);
    at = 10 + size + ((static_cast<uint8_t>(b[5]) & 0x10) ? 10 : 0);
    if (at > b.size()) return Bad("truncated MP3: ID3v2 tag longer than the file");
  }
  Mp3Info info;
  double seconds = 0;
  while (at < b.size()) {
    if (b.size() - at == 128 && b.substr(at, 3) == "TAG") break;  // ID3v1
    FrameHeader h;
    if (!DecodeFrameHeader(b, at, &h)) {
      if (info.frames == 0) return Bad("not MPEG audio (no frame sync)");
      return Bad(absl::StrCat("MP3 garbage after frame ", info.frames, " at byte ", at));
    }
    if (at + h.length > b.size()) {
      return Bad(absl::StrCat("truncated MP3: frame ", info.frames + 1, " cut short"));
    }
    if (info.frames == 0) {
      info.sample_rate = h.sample_rate;
      info.channels = h.channels;
    }
    seconds += static_cast<double>(h.samples) / h.sample_rate;
    ++info.frames;
    at += h.length;
  }
  if (info.frames < 2) return Bad("not MPEG audio (fewer than 2 frames)");
  info.duration = absl::Microseconds(static_cast<int64_t>(seconds * 1e6));
  return info;
}

absl::StatusOr<AudioInfo> DetectAudio(absl::string_view bytes) {
  if (bytes.empty()) return Bad("empty");
  if (bytes.size() >= 4 && bytes.substr(0, 4) == "RIFF") {
    absl::StatusOr<WavInfo> w = ParseWav(bytes);
    if (!w.ok()) return w.status();
    return AudioInfo{AudioFormat::kWav, w->duration, w->sample_rate, w->channels};
  }
  FrameHeader h;
  if ((bytes.size() >= 3 && bytes.substr(0, 3) == "ID3") || DecodeFrameHeader(bytes, 0, &h)) {
    absl::StatusOr<Mp3Info> m = ParseMp3(bytes);
    if (!m.ok()) return m.status();
    return AudioInfo{AudioFormat::kMp3, m->duration, m->sample_rate, m->channels};
  }
  return Bad("unknown format (not WAV or MP3)");
}

std::string PcmWav(const std::vector<int16_t>& samples, uint32_t sample_rate, uint16_t channels) {
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::string out = "RIFF";
  PutLe(out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLe(out, 16, 4);
  PutLe(out, 1, 2);
  PutLe(out, channels, 2);
  PutLe(out, sample_rate, 4);
  PutLe(out, sample_rate * 2 * channels, 4);
  PutLe(out, 2 * channels, 2);
  PutLe(out, 16, 2);
  out += "data";
  PutLe(out, data_bytes, 4);
  out.reserve(out.size() + data_bytes);
  for (int16_t s : samples) PutLe(out, static_cast<uint16_t>(s), 2);
  return out;
}

absl::StatusOr<std::string> NormalizeToTelephoneWav(absl::string_view bytes) {
  absl::StatusOr<AudioInfo> detected = DetectAudio(bytes);
  if (!detected.ok()) return detected.status();
  if (detected->format == AudioFormat::kMp3) {
    return Bad("MP3 cannot be normalised; upload WAV");
  }
  absl::StatusOr<WavInfo> w = ParseWav(bytes);
  if (!w.ok()) return w.status();
  const uint16_t tag = w->format_tag;
  const size_t sample_bytes = w->bits_per_sample / 8;
  const uint64_t frames = w->data_bytes / w->block_align;
  std::vector<float> mono;
  mono.reserve(frames);
  const auto* base = reinterpret_cast<const unsigned char*>(bytes.data()) + w->data_offset;
  for (uint64_t f = 0; f < frames; ++f) {
    double sum = 0;
    for (int c = 0; c < w->channels; ++c) {
      sum += SampleAt(*w, tag, base + f * w->block_align + c * sample_bytes);
    }
    mono.push_back(static_cast<float>(sum / w->channels));
  }
  return Resample16(mono, w->sample_rate);
}

absl::StatusOr<std::string> Synthesize(absl::string_view text, const SynthesisOptions& options) {
  if (text.empty()) return absl::InvalidArgumentError("text: must not be empty");
  if (text.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat("text: over ", kMaxTextBytes, " bytes"));
  }
  std::string voice = options.voice;
  const char* field = "voice";
  if (voice.empty()) {
    field = "language";
    voice = options.language.empty()
                ? "en-us"
                : absl::AsciiStrToLower(absl::StrReplaceAll(options.language, {{"_", "-"}}));
  }
  for (char c : voice) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '+' && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(field, ": invalid characters"));
    }
  }
  if (options.words_per_minute < 80 || options.words_per_minute > 450) {
    return absl::InvalidArgumentError("words_per_minute: must be in 80..450");
  }
  std::vector<int16_t> native;
  int rate = 0;
  {
    absl::MutexLock lock(&EspeakMutex());
    if (espeak_rate == 0) {
      espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
      if (espeak_rate > 0) {
        espeak_SetSynthCallback(&CollectSamples);
      } else {
        espeak_rate = -1;
      }
    }
    if (espeak_rate < 0) {
      return absl::InternalError("tts: espeak-ng failed to initialise (espeak-ng-data missing?)");
    }
    rate = espeak_rate;
    if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
      // "en-us" style names: try the language part alone ("de-de" -> "de").
      const std::string lang = voice.substr(0, voice.find('-'));
      if (lang == voice || espeak_SetVoiceByName(lang.c_str()) != EE_OK) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": unknown espeak-ng voice '", voice, "'"));
      }
    }
    espeak_SetParameter(espeakRATE, options.words_per_minute, 0);
    const std::string copy(text);
    const espeak_ERROR error = espeak_Synth(copy.c_str(), copy.size() + 1, 0, POS_CHARACTER, 0,
                                            espeakCHARS_UTF8, nullptr, &native);
    if (error != EE_OK) {
      return absl::InternalError(absl::StrCat("tts: espeak-ng synthesis failed (", error, ")"));
    }
  }
  if (native.empty()) return absl::InternalError("tts: espeak-ng produced no audio");
  std::vector<float> mono(native.size());
  for (size_t i = 0; i < native.size(); ++i) mono[i] = native[i] / 32768.0f;
  return Resample16(mono, static_cast<uint32_t>(rate));
}

}  // namespace switchboard::audio
