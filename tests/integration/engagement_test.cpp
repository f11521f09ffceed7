// Engagement figures end to end: a batch sent by the real mailerd through the
// real mailer-fake-ses, then SES events for its messages posted to
// /webhooks/ses as signed SNS notifications (the TEST-ONLY key), and the
// figures read back from GET /v1/batches/{id}, GET /v1/admin/metrics and
// `mailerctl batches show`.
#include <catch2/catch.hpp>

#include <map>

#include <SQLiteCpp/SQLiteCpp.h>

#include "integration/api_support.hpp"
#include "integration/engine_e2e.hpp"
#include "mailer/store/events.hpp"
#include "support/child_process.hpp"
#include "support/sns_signer.hpp"
#include "unit/sns/ses_event_records.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::e2e;
using namespace mailer::test::sns_fixtures;
namespace records = mailer::test::ses_records;

namespace {

const std::string k_offer = "https://shop.example.com/offer";
const std::string k_shoes = "https://shop.example.com/shoes";
const std::string k_socks = "https://shop.example.com/socks";

// SES records of the event-publishing flavour about one sent message.
struct SesMessage {
  std::string ses_id;
  std::string email;

  json mail() const { return records::mail(ses_id, {email}); }
  json delivery() const {
    return records::record("Delivery", "delivery",
                           {{"timestamp", "2026-12-06T10:00:00.000Z"}, {"recipients", json::array({email})}}, mail());
  }
  json hard_bounce() const {
    return records::record("Bounce", "bounce",
                           {{"bounceType", "Permanent"},
                            {"bounceSubType", "General"},
                            {"bouncedRecipients", json::array({json{{"emailAddress", email}}})}},
                           mail());
  }
  json complaint() const {
    return records::record(
        "Complaint", "complaint",
        {{"complaintFeedbackType", "abuse"}, {"complainedRecipients", json::array({json{{"emailAddress", email}}})}},
        mail());
  }
  json open() const {
    auto r = records::open_event();
    r["mail"] = mail();
    return r;
  }
  json click(const std::string& link) const {
    auto r = records::click_event(link);
    r["mail"] = mail();
    return r;
  }
};

class EngagementStack {
 public:
  EngagementStack()
      : stack({{"MAILER_SNS_TOPIC_ARNS", topic_allowlist()[1]},
               {"MAILER_SNS_CERT_HOST_PATTERN", R"(^127\.0\.0\.1$)"},
               {"MAILER_SNS_ALLOW_HTTP", "true"}}) {}

  void post(const json& record) {
    auto body =
        signed_notification(record.dump(), "sns-" + std::to_string(++m_posted), topic_allowlist()[1], certs.port());
    auto res = stack.mailerd->client()->Post("/webhooks/ses", body, "text/plain; charset=UTF-8");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    CHECK(json::parse(res->body) == json{{"status", "recorded"}});
  }
  json get(const std::string& target) { return stack.get_json(target); }

  CertServer certs;
  Stack stack;

 private:
  int m_posted = 0;
};

}  // namespace

TEST_CASE("a batch's delivered, unique opens and clicks, rates and top links", "[integration][engagement][sns]") {
  EngagementStack s;
  auto emails = addresses(4);
  const std::string id = s.stack.post_batch(batch_body(emails)).at("id");
  REQUIRE(s.stack.wait_for_status(id, "completed", std::chrono::seconds(30)).value("status", "") == "completed");

  std::map<std::string, SesMessage> sent;  // by recipient
  for (const auto& m : s.stack.fake.stored_messages()) {
    REQUIRE(m.to.size() == 1);
    sent[m.to[0]] = {m.ses_message_id, m.to[0]};
  }
  REQUIRE(sent.size() == 4);
  const auto& u0 = sent.at(emails[0]);
  const auto& u1 = sent.at(emails[1]);
  const auto& u2 = sent.at(emails[2]);
  const auto& u3 = sent.at(emails[3]);

  // u0, u1, u2 delivered, u3 hard-bounced; u1 complained.
  for (const auto* m : {&u0, &u1, &u2}) s.post(m->delivery());
  s.post(u3.hard_bounce());
  s.post(u1.complaint());
  // Opens: u0 three times, u1 once. Clicks: u0 offer twice and shoes once,
  // u2 offer once and socks twice (u2 clicked without the open pixel loading).
  for (int i = 0; i < 3; ++i) s.post(u0.open());
  s.post(u1.open());
  s.post(u0.click(k_offer));
  s.post(u0.click(k_offer));
  s.post(u0.click(k_shoes));
  s.post(u2.click(k_offer));
  s.post(u2.click(k_socks));
  s.post(u2.click(k_socks));

  auto batch = s.get("/v1/batches/" + id);
  auto engagement = batch.at("engagement");
  INFO(engagement.dump());
  CHECK(engagement["sent"] == 4);
  CHECK(engagement["delivered"] == 3);
  CHECK(engagement["opens"] == 4);
  CHECK(engagement["unique_opens"] == 2);
  CHECK(engagement["clicks"] == 6);
  CHECK(engagement["unique_clicks"] == 2);
  CHECK(engagement["bounces"] == 1);
  CHECK(engagement["hard_bounces"] == 1);
  CHECK(engagement["complaints"] == 1);
  CHECK(engagement["open_rate"].get<double>() == Approx(2.0 / 3));
  CHECK(engagement["click_rate"].get<double>() == Approx(2.0 / 3));
  CHECK(engagement["bounce_rate"].get<double>() == Approx(1.0 / 4));
  CHECK(engagement["complaint_rate"].get<double>() == Approx(1.0 / 4));
  // offer: 2 messages; socks: 1 message, 2 clicks; shoes: 1 message, 1 click.
  CHECK(engagement["top_links"] == json::array({json{{"link", k_offer}, {"clicks", 3}, {"unique_clicks", 2}},
                                                json{{"link", k_socks}, {"clicks", 2}, {"unique_clicks", 1}},
                                                json{{"link", k_shoes}, {"clicks", 1}, {"unique_clicks", 1}}}));
  CHECK(batch["events"]["OPEN"] == 4);

  // The account over the last 24 hours: this batch is all there is.
  auto metrics = s.get("/v1/admin/metrics?period=24h");
  auto account = metrics.at("engagement");
  INFO(metrics.dump());
  CHECK(account["sent"] == 4);
  CHECK(account["delivered"] == 3);
  CHECK(account["opens"] == 4);
  CHECK(account["unique_opens"] == 2);
  CHECK(account["clicks"] == 6);
  CHECK(account["unique_clicks"] == 2);
  CHECK(account["hard_bounces"] == 1);
  CHECK(account["complaints"] == 1);
  CHECK(account["open_rate"].get<double>() == Approx(2.0 / 3));
  CHECK(account["click_rate"].get<double>() == Approx(2.0 / 3));
  CHECK(account["bounce_rate"].get<double>() == Approx(1.0 / 4));
  CHECK(account["complaint_rate"].get<double>() == Approx(1.0 / 4));
  CHECK_FALSE(account.contains("top_links"));
  CHECK(metrics["bounce_rate"] == account["bounce_rate"]);
  CHECK(metrics["complaint_rate"] == account["complaint_rate"]);
  CHECK(metrics["counts"]["OPEN"] == 4);
  CHECK_FALSE(metrics["counts"].contains("unique:OPEN"));

  // mailerctl reads the same figures from the database file.
  const std::string db = s.stack.mailerd->db_path().string();
  auto shown = run_command({MAILERCTL_BIN, "--db", db, "batches", "show", id});
  INFO(shown.output << shown.errors);
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.output, Catch::Contains("opened (unique)   2      66.7%"));
  CHECK_THAT(shown.output, Catch::Contains("clicked (unique)  2      66.7%"));
  CHECK_THAT(shown.output, Catch::Contains("hard bounces      1      25.0%"));
  CHECK_THAT(shown.output, Catch::Contains("complaints        1      25.0%"));
  CHECK_THAT(shown.output, Catch::Contains("TOP LINK                        UNIQUE  CLICKS\n" + k_offer +
                                           "  2       3\n" + k_socks + "  1       2\n" + k_shoes + "  1       1\n"));
  auto as_json = run_command({MAILERCTL_BIN, "--db", db, "--json", "batches", "show", id});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.output)["engagement"] == engagement);
}

TEST_CASE("GET /v1/events filters by every event type", "[integration][engagement]") {
  MailerdFixture mailerd(api::api_options());
  auto reader = mailerd.create_key("reader", "read");
  {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    SQLite::Statement insert((*db)->sql(),
                             "INSERT INTO events(type, email, occurred_at_ms) VALUES (?, 'a@example.com', 1)");
    for (auto type : store::event_types()) {
      insert.bind(1, std::string(type));
      insert.exec();
      insert.reset();
    }
  }
  auto client = mailerd.client();
  for (auto type : store::event_types()) {
    INFO(type);
    auto data = api::body_of(api::get(*client, "/v1/events?type=" + std::string(type), reader.key))["data"];
    REQUIRE(data.size() == 1);
    CHECK(data[0]["type"] == std::string(type));
  }
  api::require_problem(api::get(*client, "/v1/events?type=unique:OPEN", reader.key), 400, "invalid_input");
}
