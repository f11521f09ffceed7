#include <catch2/catch.hpp>

#include "mailer/crypto/crypto.hpp"
#include "mailer/jobs/composer.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/messages.hpp"
#include "mailer/store/attachments.hpp"
#include "mailer/store/messages.hpp"
#include "support/test_db.hpp"

// Attachments from acceptance to the SendEmail request: decoded once, stored
// once per batch, and sent with every message of it.

using namespace mailer;
using nlohmann::json;

namespace {

const std::string k_pdf = std::string("%PDF-1.7\n\0\xff binary", 19);

json files() {
  return json::array({{{"filename", "invoice.pdf"},
                       {"content_type", "application/pdf"},
                       {"content", crypto::base64_encode(k_pdf)}},
                      {{"filename", "logo.png"},
                       {"content_type", "image/png"},
                       {"content", crypto::base64_encode("PNG")},
                       {"disposition", "inline"},
                       {"content_id", "logo"}}});
}

using mailer::test::claim_all;

void check_files(const jobs::SendRequest& request) {
  REQUIRE(request.attachments.size() == 2);
  CHECK(request.attachments[0].filename == "invoice.pdf");
  CHECK(*request.attachments[0].content == k_pdf);
  CHECK(request.attachments[1].disposition == Disposition::inlined);
  CHECK(request.attachments[1].content_id == "logo");
  CHECK(*request.attachments[1].content == "PNG");
}

}  // namespace

TEST_CASE("Composer::compose sends a transactional message's own attachments", "[jobs][composer][attachments]") {
  test::TestDb t;
  service::MessageRequest request;
  request.from = "shop@example.com";
  request.to = {"ana@example.com"};
  request.content = service::ContentInput{"Invoice", "<img src=\"cid:logo\">", std::nullopt};
  request.attachments = files();
  REQUIRE(service::MessageService(t.db(), t.clock()).enqueue_message(request));
  Config config;
  jobs::Composer composer(t.db(), t.clock(), config);
  auto claimed = claim_all(t);
  REQUIRE(claimed.size() == 1);
  auto composed = composer.compose(claimed[0]);
  REQUIRE(composed);
  check_files(composed->request);
}

TEST_CASE("A batch's attachments are stored once and sent to every recipient", "[jobs][composer][attachments]") {
  test::TestDb t;
  service::BatchRequest request;
  request.from = "shop@example.com";
  request.content = service::ContentInput{"News", "<p>hi</p>", std::nullopt};
  for (const char* email : {"a@example.com", "b@example.com", "c@example.com"}) request.recipients.push_back({email, {}});
  request.attachments = files();
  REQUIRE(service::BatchService(t.db(), t.clock()).accept_batch(request, {1000, true, std::nullopt}));

  auto totals = store::AttachmentRepo(t.db()).totals();
  REQUIRE(totals);
  CHECK(totals->rows == 2);  // not 6: one row per file, owned by the batch
  CHECK(totals->bytes == static_cast<std::int64_t>(k_pdf.size() + 3));

  Config config;
  config.unsubscribe.secret = "0123456789abcdef0123456789abcdef";
  jobs::Composer composer(t.db(), t.clock(), config);
  auto claimed = claim_all(t);
  REQUIRE(claimed.size() == 3);
  const std::string* shared = nullptr;
  for (const auto& message : claimed) {
    auto composed = composer.compose(message);
    REQUIRE(composed);
    check_files(composed->request);
    // Read once per batch: every message shares the same bytes.
    if (!shared) shared = composed->request.attachments[0].content.get();
    CHECK(composed->request.attachments[0].content.get() == shared);
  }
}

TEST_CASE("Accepting attachments is all or nothing", "[service][attachments]") {
  test::TestDb t;
  service::BatchRequest request;
  request.from = "shop@example.com";
  request.content = service::ContentInput{"News", "<p>hi</p>", std::nullopt};
  request.recipients.push_back({"a@example.com", {}});
  auto bad = files();
  bad[1]["filename"] = "logo.exe";
  request.attachments = bad;
  auto refused = service::BatchService(t.db(), t.clock()).accept_batch(request, {1000, true, std::nullopt});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::invalid_input);
  REQUIRE(refused.error().fields.size() == 1);
  CHECK(refused.error().fields[0].field == "attachments[1].filename");
  CHECK(store::AttachmentRepo(t.db()).totals()->rows == 0);
  CHECK(t.count_rows("batches") == 0);

  service::MessageRequest message;
  message.from = "shop@example.com";
  message.to = {"ana@example.com"};
  message.content = service::ContentInput{"Invoice", "<p>x</p>", std::nullopt};
  message.attachments = json::array({{{"filename", "big.pdf"},
                                      {"content_type", "application/pdf"},
                                      {"content", crypto::base64_encode(std::string(21u << 20, 'x'))}}});
  auto too_large = service::MessageService(t.db(), t.clock()).enqueue_message(message);
  REQUIRE_FALSE(too_large);
  CHECK(too_large.error().code == ErrorCode::too_large);
  CHECK(too_large.error().fields[0].field == "attachments[0].content");
  CHECK(t.count_rows("messages") == 0);

  // In a batch call, even a non-atomic one, the oversized entry refuses all, named.
  service::MessageRequest small = message;
  small.attachments = nullptr;
  auto call = service::MessageService(t.db(), t.clock())
                  .enqueue_messages({small, message}, service::Atomic::no);
  REQUIRE_FALSE(call);
  CHECK(call.error().code == ErrorCode::too_large);
  CHECK(call.error().fields[0].field == "messages[1].attachments[0].content");
  CHECK(t.count_rows("messages") == 0);
}
