// SigV4 against the published examples of the S3 documentation ("Authenticating Requests:
// Using the Authorization Header", example credentials AKIAIOSFODNN7EXAMPLE, 2013-05-24).
#include "libs/blob/sigv4.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::blob {
namespace {

const SigV4Credentials kAwsExample{"AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const absl::Time kExampleTime = absl::FromUnixSeconds(1369353600);  // 2013-05-24T00:00:00Z

std::string SignatureOf(const std::string& authorization) {
  size_t at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

TEST_CASE("SigV4 matches the S3 documentation: GET object with Range", "[sigv4][blob]") {
  SigV4Request req{.method = "GET",
                   .canonical_uri = "/test.txt",
                   .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                               {"Range", "bytes=0-9"},
                               {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
                   .payload_hash = std::string(kEmptyPayloadSha256)};
  std::string auth = SignV4(req, kAwsExample, "us-east-1", "s3", kExampleTime);
  CHECK(auth ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // The canonical request of the documentation, line by line.
  CHECK(CanonicalRequest(req) ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The secret never appears in what is sent.
  CHECK_FALSE(absl::StrContains(auth, kAwsExample.secret_access_key));
}

TEST_CASE("SigV4 matches the S3 documentation: PUT object with an encoded key",
          "[sigv4][blob]") {
  std::string hash = crypto::HexEncode(crypto::Sha256("Welcome to Amazon S3."));
  REQUIRE(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request req{.method = "PUT",
                   .canonical_uri = "/" + UriEncode("test$file.text", false),
                   .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                               {"x-amz-content-sha256", hash}},
                   .payload_hash = hash};
  CHECK(req.canonical_uri == "/test%24file.text");
  std::string auth = SignV4(req, kAwsExample, "us-east-1", "s3", kExampleTime);
  CHECK(absl::StrContains(
      auth, "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"));
  CHECK(SignatureOf(auth) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("SigV4 matches the S3 documentation: bucket lifecycle and list objects",
          "[sigv4][blob]") {
  SigV4Request lifecycle{.method = "GET",
                         .canonical_uri = "/",
                         .query = {{"lifecycle", ""}},
                         .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                                     {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
                         .payload_hash = std::string(kEmptyPayloadSha256)};
  CHECK(SignatureOf(SignV4(lifecycle, kAwsExample, "us-east-1", "s3", kExampleTime)) ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  // Query given unsorted: the canonical form sorts it.
  SigV4Request list{.method = "GET",
                    .canonical_uri = "/",
                    .query = {{"prefix", "J"}, {"max-keys", "2"}},
                    .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                                {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}},
                    .payload_hash = std::string(kEmptyPayloadSha256)};
  CHECK(SignatureOf(SignV4(list, kAwsExample, "us-east-1", "s3", kExampleTime)) ==
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("SigV4 canonical request rules", "[sigv4][blob]") {
  SECTION("URI encoding keeps unreserved characters only, slashes by choice") {
    CHECK(UriEncode("A-z_0.9~", true) == "A-z_0.9~");
    CHECK(UriEncode("a b+c=d&e", true) == "a%20b%2Bc%3Dd%26e");
    CHECK(UriEncode("a/b", false) == "a/b");
    CHECK(UriEncode("a/b", true) == "a%2Fb");
    CHECK(UriEncode("é", true) == "%C3%A9");
    CHECK(UriEncode("!'()*", true) == "%21%27%28%29%2A");
  }
  SECTION("query is sorted by encoded name, then value; empty values keep '='") {
    CHECK(CanonicalQueryString({{"uploadId", "a/b+c=="}, {"partNumber", "2"}}) ==
          "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D");
    CHECK(CanonicalQueryString({{"uploads", ""}}) == "uploads=");
    CHECK(CanonicalQueryString({{"b", "2"}, {"a", "9"}, {"a", "1"}}) == "a=1&a=9&b=2");
    CHECK(CanonicalQueryString({}).empty());
  }
  SECTION("header names are lower-cased, values trimmed, spaces collapsed, duplicates joined") {
    SigV4Request req{.method = "GET",
                     .canonical_uri = "/k",
                     .headers = {{"X-Amz-Meta-B", "  two   words  "},
                                 {"Host", "h"},
                                 {"x-amz-meta-a", "1"},
                                 {"X-AMZ-META-A", "2"}},
                     .payload_hash = std::string(kUnsignedPayload)};
    CHECK(CanonicalRequest(req) ==
          "GET\n/k\n\nhost:h\nx-amz-meta-a:1,2\nx-amz-meta-b:two words\n\n"
          "host;x-amz-meta-a;x-amz-meta-b\nUNSIGNED-PAYLOAD");
  }
  SECTION("a session token is signed") {
    SigV4Request req{.method = "GET", .canonical_uri = "/", .headers = {{"host", "h"}},
                     .payload_hash = std::string(kUnsignedPayload)};
    SigV4Credentials with_token = kAwsExample;
    with_token.session_token = "tok";
    std::string auth = SignV4(req, with_token, "eu-west-1", "s3", kExampleTime);
    CHECK(absl::StrContains(auth, "/20130524/eu-west-1/s3/aws4_request,"));
    CHECK(absl::StrContains(auth, "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
  }
  SECTION("x-amz-date format") {
    CHECK(AmzDate(absl::FromUnixSeconds(0)) == "19700101T000000Z");
    CHECK(AmzDate(absl::FromUnixSeconds(951782400)) == "20000229T000000Z");
  }
}

}  // namespace
}  // namespace switchboard::blob
