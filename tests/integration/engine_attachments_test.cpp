// End to end, real mailerd + real mailer-fake-ses: files given to
// POST /v1/messages and POST /v1/batches reach SES as
// Content.Simple.Attachments and come out of the fake's .eml byte for byte;
// files SES would refuse are refused at acceptance, naming the attachment.
#include <fstream>
#include <sstream>

#include "integration/engine_e2e.hpp"
#include "mailer/crypto/crypto.hpp"
#include "support/temp_dir.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;
using namespace std::chrono_literals;

namespace {

// Bytes no text transformation would leave alone: NUL, CR, LF, 0xFF, and
// more than one base64 line.
std::string binary(std::string_view head, std::size_t size) {
  std::string bytes(head);
  for (std::size_t i = 0; bytes.size() < size; ++i) bytes.push_back(static_cast<char>((i * 37 + 11) % 256));
  return bytes;
}

const std::string k_pdf = binary("%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n", 5000);
const std::string k_png = binary(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), 1500);

json files() {
  return json::array({{{"filename", "invoice 2026.pdf"},
                       {"content_type", "application/pdf"},
                       {"content", mailer::crypto::base64_encode(k_pdf)}},
                      {{"filename", "logo.png"},
                       {"content_type", "image/png"},
                       {"disposition", "inline"},
                       {"content_id", "logo@shop"},
                       {"content", mailer::crypto::base64_encode(k_png)}}});
}

using mailer::test::read_file;

// The MIME part of `eml` whose headers contain `marker`: {headers, decoded body}.
std::pair<std::string, std::string> part_with(const std::string& eml, const std::string& marker) {
  const auto at = eml.find(marker);
  REQUIRE(at != std::string::npos);
  const auto body_start = eml.find("\r\n\r\n", at);
  REQUIRE(body_start != std::string::npos);
  const auto headers_start = eml.rfind("\r\n--", at);
  const auto body_end = eml.find("\r\n--", body_start);
  std::string encoded;
  for (char c : eml.substr(body_start + 4, body_end - body_start - 4))
    if (c != '\r' && c != '\n') encoded.push_back(c);
  std::string decoded;
  REQUIRE(mailer::crypto::base64_decode(encoded, decoded));
  return {eml.substr(headers_start, body_start - headers_start), decoded};
}

void check_eml(const FakeSesFixture& fake, const StoredMessage& sent) {
  const auto eml = read_file(fake.out_dir() / (sent.ses_message_id + ".eml"));
  INFO(eml.substr(0, 2000));
  auto [pdf_headers, pdf] = part_with(eml, "invoice 2026.pdf");
  CHECK(pdf_headers.find("Content-Type: application/pdf") != std::string::npos);
  CHECK(pdf_headers.find("Content-Disposition: attachment") != std::string::npos);
  CHECK(pdf == k_pdf);
  auto [png_headers, png] = part_with(eml, "logo.png");
  CHECK(png_headers.find("Content-Disposition: inline") != std::string::npos);
  CHECK(png_headers.find("Content-ID: <logo@shop>") != std::string::npos);
  CHECK(png == k_png);
}

int post(const Stack& stack, const std::string& path, const json& body, json& answer) {
  auto res = stack.mailerd->client()->Post(path.c_str(), bearer(stack.key), body.dump(), "application/json");
  REQUIRE(res);
  answer = json::parse(res->body);
  return res->status;
}

}  // namespace

TEST_CASE("A transactional message with a PDF and an inline image reaches SES intact",
          "[engine][e2e][integration][attachments]") {
  Stack stack;
  json message{{"from", "Shop <shop@example.com>"},
               {"to", "success@simulator.amazonses.com"},
               {"content", {{"subject", "Your invoice"}, {"html", "<img src=\"cid:logo@shop\"><p>Attached.</p>"}}},
               {"attachments", files()}};
  json answer;
  REQUIRE(post(stack, "/v1/messages", message, answer) == 202);
  const std::string id = answer["id"];
  REQUIRE(wait_until([&] { return stack.get_json("/v1/messages/" + id)["status"] == "sent"; }, 10s));

  auto stored = stack.fake.stored_messages();
  REQUIRE(stored.size() == 1);
  const auto& sent_files = stored[0].request["Content"]["Simple"]["Attachments"];
  REQUIRE(sent_files.size() == 2);
  CHECK(sent_files[0]["ContentTransferEncoding"] == "BASE64");
  CHECK(sent_files[1]["ContentDisposition"] == "INLINE");
  check_eml(stack.fake, stored[0]);
}

TEST_CASE("Every message of a batch carries the batch's attachments", "[engine][e2e][integration][attachments]") {
  Stack stack;
  auto body = batch_body(addresses(3));
  body["attachments"] = files();
  auto accepted = stack.post_batch(body);
  REQUIRE(stack.wait_for_status(accepted["id"], "completed", 20s)["status"] == "completed");
  auto stored = stack.fake.stored_messages();
  REQUIRE(stored.size() == 3);
  for (const auto& sent : stored) check_eml(stack.fake, sent);
}

TEST_CASE("Attachments SES would refuse are refused at acceptance, named", "[engine][integration][attachments]") {
  Stack stack;
  json message{{"from", "shop@example.com"},
               {"to", "success@simulator.amazonses.com"},
               {"content", {{"subject", "x"}, {"text", "y"}}}};
  json answer;
  SECTION("a program: 400") {
    auto list = files();
    list[1]["filename"] = "setup.EXE";
    message["attachments"] = list;
    REQUIRE(post(stack, "/v1/messages", message, answer) == 400);
    INFO(answer.dump());
    REQUIRE(answer["errors"].size() == 1);
    CHECK(answer["errors"][0]["field"] == "attachments[1].filename");
  }
  SECTION("over the per-file size: 413") {
    message["attachments"] = json::array({{{"filename", "big.pdf"},
                                           {"content_type", "application/pdf"},
                                           {"content", mailer::crypto::base64_encode(std::string(21u << 20, 'x'))}}});
    REQUIRE(post(stack, "/v1/messages", message, answer) == 413);
    INFO(answer.dump());
    CHECK(answer["errors"][0]["field"] == "attachments[0].content");
  }
  SECTION("in a batch: 400, nothing stored") {
    auto body = batch_body(addresses(2));
    body["attachments"] = json::array({{{"filename", "a.pdf"}, {"content_type", "application/x-sh"}, {"content", "AA=="}}});
    REQUIRE(post(stack, "/v1/batches", body, answer) == 400);
    CHECK(answer["errors"][0]["field"] == "attachments[0].content_type");
    CHECK(stack.get_json("/v1/batches")["data"].empty());
  }
  CHECK(stack.fake.stored_messages().empty());
}
