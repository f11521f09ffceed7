#include <catch2/catch.hpp>

#include "mailer/crypto/crypto.hpp"
#include "mailer/render/attachments.hpp"

using namespace mailer;
using nlohmann::json;

namespace {

json pdf(std::string content = crypto::base64_encode("%PDF-1.7 bytes")) {
  return {{"filename", "invoice.pdf"}, {"content_type", "application/pdf"}, {"content", std::move(content)}};
}

// The fields and messages of a refusal, in order.
std::vector<std::pair<std::string, std::string>> fields(const Error& error) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : error.fields) out.emplace_back(f.field, f.message);
  return out;
}

std::pair<std::string, std::string> first_refusal(const json& list) {
  auto refused = render::message_attachments(list);
  REQUIRE_FALSE(refused);
  REQUIRE_FALSE(refused.error().fields.empty());
  return {refused.error().fields[0].field, refused.error().fields[0].message};
}

// A base64 text whose decoded size is `bytes`, without building the bytes twice.
std::string base64_of_size(std::size_t bytes) { return crypto::base64_encode(std::string(bytes, 'x')); }

}  // namespace

TEST_CASE("render::message_attachments decodes what SES can send", "[render][attachments]") {
  SECTION("a file and an inline image, in order") {
    json image{{"filename", "logo.png"},
               {"content_type", "Image/PNG"},
               {"content", crypto::base64_encode(std::string("\x89PNG\r\n\x1a\n\0\xff", 10))},
               {"disposition", "inline"},
               {"content_id", "logo@mailerd"}};
    auto files = render::message_attachments(json::array({pdf(), image}));
    REQUIRE(files);
    REQUIRE(files->size() == 2);
    CHECK((*files)[0].filename == "invoice.pdf");
    CHECK((*files)[0].disposition == Disposition::attachment);
    CHECK(*(*files)[0].content == "%PDF-1.7 bytes");
    CHECK((*files)[1].content_type == "image/png");
    CHECK((*files)[1].disposition == Disposition::inlined);
    CHECK((*files)[1].content_id == "logo@mailerd");
    CHECK(*(*files)[1].content == std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
  }
  SECTION("null means none") { CHECK(render::message_attachments(nullptr)->empty()); }
}

TEST_CASE("render::message_attachments names every bad member", "[render][attachments]") {
  using Problem = std::pair<std::string, std::string>;
  SECTION("shape") {
    CHECK(first_refusal(json::object()).first == "attachments");
    CHECK(first_refusal(json::array({1})) == Problem{"attachments[0]", "must be an object {filename, content_type, content}"});
    auto eleven = json::array();
    for (int i = 0; i < 11; ++i) eleven.push_back(pdf());
    CHECK(first_refusal(eleven) == Problem{"attachments", "has 11 files; at most 10 are allowed"});
    auto extra = pdf();
    extra["size"] = 3;
    CHECK(first_refusal(json::array({extra})) == Problem{"attachments[0].size", "unknown field"});
  }
  SECTION("filename") {
    for (const char* bad : {"", "a/b.pdf", "..\\x.pdf", "bell\a.pdf", "..", "x.pdf.", "x.pdf ",
                            "next\u0085line.pdf", "invoice\u202Efdp.exe", "x.exe\u200B", "\uFEFFa.pdf"}) {
      INFO(bad);
      auto file = pdf();
      file["filename"] = bad;
      CHECK(first_refusal(json::array({file})).first == "attachments[0].filename");
    }
    auto file = pdf();
    file["filename"] = std::string(252, 'a') + ".pdf";
    CHECK(first_refusal(json::array({file})).second == "is 256 bytes long; at most 255 are allowed");
    file.erase("filename");
    CHECK(first_refusal(json::array({file})) == Problem{"attachments[0].filename", "required: a string"});
  }
  SECTION("extensions SES refuses, in any case") {
    for (const char* bad : {"setup.exe", "RUN.BAT", "macro.vbs", "x.tar.Js", "profile.ps1xml"}) {
      INFO(bad);
      auto file = pdf();
      file["filename"] = bad;
      CHECK(first_refusal(json::array({file})).second.starts_with("SES refuses files of type ."));
    }
    CHECK_FALSE(render::has_unsupported_extension("report.pdf"));
    CHECK_FALSE(render::has_unsupported_extension("exe"));
    CHECK(render::has_unsupported_extension("a.Exe"));
  }
  SECTION("content_type") {
    for (const char* bad : {"pdf", "application/pdf; name=x", "/pdf", "application/", "multipart/mixed",
                            "application/x-msdownload", "TEXT/JAVASCRIPT", "app lication/pdf", "image/*", "*/*"}) {
      INFO(bad);
      auto file = pdf();
      file["content_type"] = bad;
      CHECK(first_refusal(json::array({file})).first == "attachments[0].content_type");
    }
    CHECK(render::content_type_problem("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
              .empty());
    CHECK(render::content_type_problem("text/javascript") == "text/javascript is a program or script type, which SES refuses");
  }
  SECTION("content must be padded base64 without line breaks") {
    for (const char* bad : {"", "abc", "ab=c", "YWJj\nZGVm", "YQ==YQ==", "YW*j", "Y==="}) {
      INFO(bad);
      CHECK(first_refusal(json::array({pdf(bad)})).first == "attachments[0].content");
    }
  }
  SECTION("disposition and content_id") {
    auto file = pdf();
    file["disposition"] = "INLINE";
    CHECK(first_refusal(json::array({file})) ==
          Problem{"attachments[0].disposition", "must be \"attachment\" or \"inline\""});
    file["disposition"] = "inline";
    CHECK(first_refusal(json::array({file})).first == "attachments[0].content_id");
    file["content_id"] = "has space";
    CHECK(first_refusal(json::array({file})).first == "attachments[0].content_id");
    file["content_id"] = std::string(79, 'a');
    CHECK(first_refusal(json::array({file})).first == "attachments[0].content_id");
    file["content_id"] = "logo";
    auto again = file;
    auto refused = render::message_attachments(json::array({file, again}));
    REQUIRE_FALSE(refused);
    CHECK(fields(refused.error()) == std::vector<Problem>{{"attachments[1].content_id", "is given twice"}});
    auto plain = pdf();
    plain["content_id"] = "logo";
    CHECK(first_refusal(json::array({plain})) == Problem{"attachments[0].content_id", "only for inline attachments"});
  }
  SECTION("every problem at once, with the code invalid_input") {
    auto a = pdf("!!!!");
    auto b = pdf();
    b["filename"] = "x.exe";
    auto refused = render::message_attachments(json::array({a, b}));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::invalid_input);
    CHECK(refused.error().fields.size() == 2);
  }
}

TEST_CASE("render::message_attachments refuses sizes SES cannot take as too_large", "[render][attachments]") {
  SECTION("one file over the per-file bound") {
    auto refused = render::message_attachments(json::array({pdf(base64_of_size(render::k_max_attachment_bytes + 1))}));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::too_large);
    CHECK(fields(refused.error()) ==
          std::vector<std::pair<std::string, std::string>>{
              {"attachments[0].content", "decodes to 20971521 bytes; at most 20971520 are allowed per file"}});
  }
  SECTION("files each within, together over the total") {
    auto half = base64_of_size(render::k_max_attachments_total_bytes / 2 + 1);
    auto refused = render::message_attachments(json::array({pdf(half), pdf(half)}));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::too_large);
    CHECK(refused.error().fields[0].field == "attachments");
  }
  SECTION("exactly at the bound is accepted") {
    auto files = render::message_attachments(json::array({pdf(base64_of_size(render::k_max_attachment_bytes))}));
    REQUIRE(files);
    CHECK((*files)[0].size_bytes() == render::k_max_attachment_bytes);
  }
}
