#include "libs/audio/audio.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace switchboard::audio {
namespace {

std::vector<int16_t> Tone(int frames, uint32_t rate, int channels = 1) {
  std::vector<int16_t> s;
  for (int i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) {
      s.push_back(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * i / rate)));
    }
  }
  return s;
}

// MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames of 1152 samples.
std::string Mp3Frames(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string frame(417, '\0');
    frame[0] = static_cast<char>(0xFF);
    frame[1] = static_cast<char>(0xFB);
    frame[2] = static_cast<char>(0x90);
    frame[3] = static_cast<char>(0xC0);  // mono
    out += frame;
  }
  return out;
}

TEST_CASE("ParseWav reads format and duration from the header", "[audio][wav]") {
  const std::string wav = PcmWav(Tone(16000, 8000));
  absl::StatusOr<WavInfo> info = ParseWav(wav);
  REQUIRE(info.ok());
  CHECK(info->format_tag == 1);
  CHECK(info->channels == 1);
  CHECK(info->sample_rate == 8000);
  CHECK(info->bits_per_sample == 16);
  CHECK(info->data_offset == 44);
  CHECK(info->data_bytes == 32000);
  CHECK(info->duration == absl::Seconds(2));
}

TEST_CASE("ParseWav skips unknown chunks and pads odd sizes", "[audio][wav]") {
  std::string wav = PcmWav(Tone(800, 8000));
  std::string list = std::string("LIST") + std::string("\x03\0\0\0", 4) + "abc" + '\0';
  wav.insert(36, list);
  absl::StatusOr<WavInfo> info = ParseWav(wav);
  REQUIRE(info.ok());
  CHECK(info->duration == absl::Milliseconds(100));
}

TEST_CASE("ParseWav rejects bad input with the reason", "[audio][wav]") {
  const std::string wav = PcmWav(Tone(800, 8000));
  struct Case {
    std::string bytes;
    std::string reason;
  };
  std::string bad_align = wav;
  bad_align[32] = 4;
  std::string bad_format = wav;
  bad_format[20] = 2;  // ADPCM
  std::string odd = wav.substr(0, wav.size() - 1);
  odd[40] = static_cast<char>(static_cast<uint8_t>(odd[40]) - 1);
  const std::vector<Case> cases = {
      {"", "empty"},
      {"hello world, not audio", "not a RIFF/WAVE"},
      {wav.substr(0, 30), "fmt chunk"},
      {wav.substr(0, 40), "no data chunk"},
      {wav.substr(0, 500), "truncated WAV: data chunk declares 1600 bytes, 456 present"},
      {bad_align, "block align"},
      {bad_format, "unsupported WAV encoding"},
      {odd, "whole number of frames"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<WavInfo> info = ParseWav(c.bytes);
    INFO(c.reason);
    REQUIRE_FALSE(info.ok());
    CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(info.status().message()).find(c.reason) != std::string::npos);
  }
}

TEST_CASE("ParseMp3 sums frames and skips ID3 tags", "[audio][mp3]") {
  SECTION("bare frames") {
    absl::StatusOr<Mp3Info> info = ParseMp3(Mp3Frames(100));
    REQUIRE(info.ok());
    CHECK(info->frames == 100);
    CHECK(info->sample_rate == 44100);
    CHECK(info->channels == 1);
    CHECK(absl::AbsDuration(info->duration - absl::Microseconds(2612244)) < absl::Milliseconds(1));
  }
  SECTION("ID3v2 in front and ID3v1 behind") {
    std::string tag = std::string("ID3\x03\x00\x00\x00\x00\x01\x00", 10) + std::string(128, 'x');
    std::string v1 = "TAG" + std::string(125, ' ');
    absl::StatusOr<Mp3Info> info = ParseMp3(tag + Mp3Frames(10) + v1);
    REQUIRE(info.ok());
    CHECK(info->frames == 10);
  }
  SECTION("truncated last frame") {
    std::string mp3 = Mp3Frames(10);
    mp3.resize(mp3.size() - 100);
    absl::StatusOr<Mp3Info> info = ParseMp3(mp3);
    REQUIRE_FALSE(info.ok());
    CHECK(std::string(info.status().message()).find("cut short") != std::string::npos);
  }
  SECTION("garbage after frames") {
    absl::StatusOr<Mp3Info> info = ParseMp3(Mp3Frames(3) + "garbage!");
    REQUIRE_FALSE(info.ok());
    CHECK(std::string(info.status().message()).find("garbage") != std::string::npos);
  }
}

TEST_CASE("DetectAudio tells WAV, MP3 and junk apart", "[audio]") {
  absl::StatusOr<AudioInfo> wav = DetectAudio(PcmWav(Tone(8000, 8000)));
  REQUIRE(wav.ok());
  CHECK(wav->format == AudioFormat::kWav);
  CHECK(wav->duration == absl::Seconds(1));
  absl::StatusOr<AudioInfo> mp3 = DetectAudio(Mp3Frames(5));
  REQUIRE(mp3.ok());
  CHECK(mp3->format == AudioFormat::kMp3);
  CHECK(std::string(FormatName(mp3->format)) == "mp3");
  absl::StatusOr<AudioInfo> junk = DetectAudio("%PDF-1.4 definitely not audio");
  CHECK(junk.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(junk.status().message()).find("unknown format") != std::string::npos);
  CHECK(DetectAudio("").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("NormalizeToTelephoneWav converts rate and channels", "[audio][normalize]") {
  SECTION("44.1 kHz stereo 16-bit becomes 8 kHz mono of the same length") {
    absl::StatusOr<std::string> out = NormalizeToTelephoneWav(PcmWav(Tone(44100, 44100, 2), 44100, 2));
    REQUIRE(out.ok());
    absl::StatusOr<WavInfo> info = ParseWav(*out);
    REQUIRE(info.ok());
    CHECK(info->sample_rate == 8000);
    CHECK(info->channels == 1);
    CHECK(info->bits_per_sample == 16);
    CHECK(absl::AbsDuration(info->duration - absl::Seconds(1)) < absl::Milliseconds(5));
  }
  SECTION("8 kHz mono passes through unchanged") {
    const std::string in = PcmWav(Tone(800, 8000));
    absl::StatusOr<std::string> out = NormalizeToTelephoneWav(in);
    REQUIRE(out.ok());
    CHECK(*out == in);
  }
  SECTION("MP3 and junk are rejected") {
    CHECK(NormalizeToTelephoneWav(Mp3Frames(4)).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(NormalizeToTelephoneWav("junk").status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Synthesize renders 8 kHz mono speech", "[audio][tts]") {
  absl::StatusOr<std::string> wav = Synthesize("Thanks for calling Acme Plumbing.", {});
  REQUIRE(wav.ok());
  absl::StatusOr<WavInfo> info = ParseWav(*wav);
  REQUIRE(info.ok());
  CHECK(info->sample_rate == 8000);
  CHECK(info->channels == 1);
  CHECK(info->duration > absl::Milliseconds(800));
  // Not silence.
  int loud = 0;
  for (size_t i = info->data_offset; i + 1 < wav->size(); i += 2) {
    const int16_t s = static_cast<int16_t>(static_cast<uint8_t>((*wav)[i]) |
                                           (static_cast<uint8_t>((*wav)[i + 1]) << 8));
    if (std::abs(s) > 1000) ++loud;
  }
  CHECK(loud > 100);

  absl::StatusOr<std::string> german = Synthesize("Guten Tag", {.language = "de-DE"});
  CHECK(german.ok());
  CHECK(Synthesize("", {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Synthesize(std::string(5000, 'a'), {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> unknown = Synthesize("hi", {.voice = "qq-zz"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(unknown.status().message()).find("voice") != std::string::npos);
}

}  // namespace
}  // namespace switchboard::audio
