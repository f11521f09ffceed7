#include <catch2/catch.hpp>

#include <algorithm>

#include "mailer/jobs/composer.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/messages.hpp"
#include "mailer/store/messages.hpp"
#include "support/test_db.hpp"

// SES list management and the configured sending identities, from acceptance
// to the SendEmail request.

using namespace mailer;

namespace {

constexpr const char* k_from_arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
constexpr const char* k_feedback_arn = "arn:aws:ses:us-east-1:210987654321:identity/example.org";

using mailer::test::claim_all;

service::BatchRequest news_batch() {
  service::BatchRequest request;
  request.from = "shop@example.com";
  request.content = service::ContentInput{"News for {{email}}",
                                          "<a href=\"{{amazonSESUnsubscribeUrl}}\">Unsubscribe</a> "
                                          "<a href=\"{{unsubscribe_url}}\">again</a> &amp; {{name}}",
                                          "Unsubscribe: {{amazonSESUnsubscribeUrl}} {{{amazonSESUnsubscribeUrl}}}"};
  request.recipients.push_back({"ana@example.com", {{"name", "<Ana>"}}});
  return request;
}

// The one message accepted so far, composed with `config`.
Result<jobs::Composed> compose_only(test::TestDb& t, const Config& config) {
  jobs::Composer composer(t.db(), t.clock(), config);
  auto claimed = claim_all(t);
  REQUIRE(claimed.size() == 1);
  return composer.compose(claimed[0]);
}

bool has_header(const jobs::SendRequest& request, const std::string& name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& header) { return header.first == name; });
}

}  // namespace

TEST_CASE("A batch under SES list management leaves unsubscribing to SES", "[jobs][composer]") {
  test::TestDb t;
  auto request = news_batch();
  request.list_management = service::ListManagementInput{"customers", "orders"};
  // No unsubscribe.secret: the batch is accepted and sent without one.
  REQUIRE(service::BatchService(t.db(), t.clock()).accept_batch(request, {1000, false, std::nullopt}));
  auto composed = compose_only(t, Config{});
  REQUIRE(composed);
  const auto& sent = composed->request;
  REQUIRE(sent.list_management);
  CHECK(*sent.list_management == aws::ListManagement{"customers", "orders"});
  CHECK_FALSE(has_header(sent, "List-Unsubscribe"));
  CHECK_FALSE(has_header(sent, "List-Unsubscribe-Post"));
  CHECK(has_header(sent, "X-Mailer-Message-Id"));
  // SES's placeholder survives as written, HTML-escaped or not; other
  // variables are still escaped in the HTML.
  CHECK(sent.html ==
        "<a href=\"{{amazonSESUnsubscribeUrl}}\">Unsubscribe</a> <a href=\"{{amazonSESUnsubscribeUrl}}\">again</a> "
        "&amp; &lt;Ana&gt;");
  CHECK(sent.text == "Unsubscribe: {{amazonSESUnsubscribeUrl}} {{amazonSESUnsubscribeUrl}}");
  CHECK(sent.subject == "News for ana@example.com");
}

TEST_CASE("A batch without list management keeps mailerd's unsubscribe link", "[jobs][composer]") {
  test::TestDb t;
  REQUIRE(service::BatchService(t.db(), t.clock()).accept_batch(news_batch(), {1000, true, std::nullopt}));
  Config config;
  SECTION("signed with unsubscribe.secret") {
    config.unsubscribe.secret = "0123456789abcdef0123456789abcdef";
    auto composed = compose_only(t, config);
    REQUIRE(composed);
    const auto& sent = composed->request;
    CHECK_FALSE(sent.list_management);
    CHECK(has_header(sent, "List-Unsubscribe"));
    CHECK(has_header(sent, "List-Unsubscribe-Post"));
    // Outside list management the SES placeholder is an ordinary, unset variable.
    CHECK(sent.text == "Unsubscribe:  ");
    CHECK(sent.html.find("/u/") != std::string::npos);
  }
  SECTION("refused without unsubscribe.secret") {
    auto refused = compose_only(t, config);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::invalid_input);
    CHECK(refused.error().detail.starts_with("unsubscribe.secret is not set"));
  }
}

TEST_CASE("Composer::compose sends the configured sending identities with every message", "[jobs][composer]") {
  test::TestDb t;
  REQUIRE(service::BatchService(t.db(), t.clock()).accept_batch(news_batch(), {1000, true, std::nullopt}));
  service::MessageRequest message;
  message.from = "shop@example.com";
  message.to = {"ben@example.com"};
  message.content = service::ContentInput{"Receipt", std::nullopt, "Thanks"};
  REQUIRE(service::MessageService(t.db(), t.clock()).enqueue_message(message));
  Config config;
  config.unsubscribe.secret = "0123456789abcdef0123456789abcdef";
  config.ses.from_email_address_identity_arn = k_from_arn;
  config.ses.feedback_forwarding_email_address = "bounces@example.org";
  config.ses.feedback_forwarding_email_address_identity_arn = k_feedback_arn;
  jobs::Composer composer(t.db(), t.clock(), config);
  auto claimed = claim_all(t);
  REQUIRE(claimed.size() == 2);
  for (const auto& m : claimed) {
    INFO(m.email);
    auto composed = composer.compose(m);
    REQUIRE(composed);
    CHECK(composed->request.from_identity_arn == k_from_arn);
    CHECK(composed->request.feedback_forwarding_address == "bounces@example.org");
    CHECK(composed->request.feedback_forwarding_identity_arn == k_feedback_arn);
  }
}
