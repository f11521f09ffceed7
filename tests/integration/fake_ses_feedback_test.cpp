// mailer-fake-ses closing the loop: the SES mailbox simulator's answers,
// published as SNS envelopes signed with the fake's own key to a real
// mailerd's /webhooks/ses, in both payload flavours; what mailerd stores and
// suppresses is read back through its API.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include "integration/engine_e2e.hpp"
#include "mailer/aws/sigv4.hpp"
#include "mailer/net/http_client.hpp"
#include "mailer/sns/verify.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::e2e;
using namespace std::chrono_literals;

namespace {

const std::string k_link = "https://shop.example.com/offer?id=7&x=1";

std::string simulator(const std::string& local) { return local + "@simulator.amazonses.com"; }

const std::vector<std::string>& recipients() {
  static const std::vector<std::string> all{
      simulator("success"),         simulator("bounce"),        simulator("complaint"), simulator("ooto"),
      simulator("suppressionlist"), simulator("success+label"), "reader@example.com"};
  return all;
}

json batch_with_link(const std::vector<std::string>& emails) {
  auto body = batch_body(emails);
  body["content"]["html"] =
      "<p>Hi {{name}}</p><a href=\"https://shop.example.com/offer?id=7&amp;x=1\">offer</a> "
      "<a href=\"{{unsubscribe_url}}\">unsubscribe</a>";
  return body;
}

// Sends the simulator batch through mailerd and waits until the fake has
// published `expected` notifications and has nothing left.
void run_batch(Stack& stack, std::uint64_t expected) {
  stack.fake.set_sns({{"endpoint", "http://127.0.0.1:" + std::to_string(stack.mailerd->port()) + "/webhooks/ses"}});
  auto batch = stack.post_batch(batch_with_link(recipients()));
  auto done = stack.wait_for_status(batch["id"], "completed", 10s);
  REQUIRE(done["status"] == "completed");
  json sns;
  bool settled = wait_until(
      [&] {
        sns = stack.fake.sns_stats();
        return sns.value("pending", 1) == 0 && sns.value("published", std::uint64_t{0}) >= expected;
      },
      10s);
  INFO(sns.dump());
  REQUIRE(settled);
  CHECK(sns["published"] == expected);
  CHECK(sns["publish_failed"] == 0);
  CHECK(sns["dropped"] == 0);
  CHECK(sns["subscription"] == "confirmed");  // mailerd GOT the SubscribeURL
}

json events_of(const Stack& stack, const std::string& type) {
  return stack.get_json("/v1/events?type=" + type)["data"];
}

// The reason mailerd suppresses `email` for, or "" when it does not.
std::string suppression_reason(const Stack& stack, const std::string& email) {
  auto res = stack.mailerd->client()->Get(("/v1/suppressions/" + email).c_str(), bearer(stack.key));
  REQUIRE(res);
  if (res->status == 404) return "";
  INFO(res->body);
  REQUIRE(res->status == 200);
  return json::parse(res->body).value("reason", "?");
}

void check_suppressions(const Stack& stack) {
  CHECK(suppression_reason(stack, simulator("bounce")) == "bounce");
  CHECK(suppression_reason(stack, simulator("suppressionlist")) == "bounce");
  CHECK(suppression_reason(stack, simulator("complaint")) == "complaint");
  for (const auto& kept :
       {simulator("success"), simulator("ooto"), simulator("success+label"), std::string("reader@example.com")}) {
    INFO(kept);
    CHECK(suppression_reason(stack, kept).empty());
  }
}

std::set<std::string> emails_of(const json& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(e.value("email", ""));
  return out;
}

// A SendEmail to the fake, signed with the credentials it checks.
void send_direct(const FakeSesFixture& fake, const std::vector<std::string>& to) {
  auto env = fake.mailerd_env();
  const std::string fake_url = fake.endpoint();
  json body = {{"FromEmailAddress", "shop@example.com"},
               {"Destination", {{"ToAddresses", to}}},
               {"Content", {{"Simple", {{"Subject", {{"Data", "Hi"}}}, {"Body", {{"Text", {{"Data", "Hello"}}}}}}}}}};
  static net::CurlGlobal curl;
  net::HttpClient http;
  std::vector<aws::Header> headers{{"Host", fake_url.substr(7)}, {"Content-Type", "application/json"}};
  aws::add_signature_headers(headers, "POST", "/v2/email/outbound-emails", "", body.dump(),
                             {aws::format_amz_date(std::chrono::system_clock::now()), "us-east-1", "ses"},
                             env["MAILER_SES_ACCESS_KEY_ID"], env["MAILER_SES_SECRET_ACCESS_KEY"], "");
  auto res = http.perform({"POST", fake_url + "/v2/email/outbound-emails", headers, body.dump()});
  REQUIRE(res);
  REQUIRE(res->status == 200);
}

// An SNS subscriber on loopback that keeps what it is sent.
class Capture {
 public:
  explicit Capture(std::chrono::milliseconds answer_after = 0ms) {
    m_server.Post("/sns", [this, answer_after](const httplib::Request& req, httplib::Response& res) {
      {
        std::scoped_lock lock(m_mutex);
        m_requests.push_back(req);
      }
      ++m_arrived;
      std::this_thread::sleep_for(answer_after);
      res.set_content("{}", "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~Capture() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/sns"; }
  int arrived() const { return m_arrived; }
  std::vector<httplib::Request> requests() {
    std::scoped_lock lock(m_mutex);
    return m_requests;
  }

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<httplib::Request> m_requests;
  std::atomic<int> m_arrived{0};
};

}  // namespace

TEST_CASE("mailer-fake-ses publishes the mailbox simulator's events to mailerd", "[fake_ses][integration][sns]") {
  Stack stack(fake_sns_env(), {true, {"--open-rate", "1", "--click-rate", "1", "--sns-delay-ms", "20"}});
  // Per message a Send; Delivery for all but the two bounces; a Complaint;
  // with both rates at 1 an Open and a Click per delivered message.
  run_batch(stack, 7 + 5 + 2 + 1 + 5 + 5);

  CHECK(events_of(stack, "SEND").size() == 7);
  CHECK(emails_of(events_of(stack, "DELIVERY")) == std::set<std::string>{simulator("success"), simulator("complaint"),
                                                                         simulator("ooto"), simulator("success+label"),
                                                                         "reader@example.com"});
  auto bounces = events_of(stack, "BOUNCE");
  CHECK(emails_of(bounces) == std::set<std::string>{simulator("bounce"), simulator("suppressionlist")});
  for (const auto& bounce : bounces) {
    INFO(bounce.dump());
    CHECK(bounce["message_id"].is_string());  // joined to the message mailerd sent
    CHECK(bounce["detail"]["bounce_type"] == "Permanent");
  }
  CHECK(emails_of(events_of(stack, "COMPLAINT")) == std::set<std::string>{simulator("complaint")});
  CHECK(events_of(stack, "OPEN").size() == 5);
  auto clicks = events_of(stack, "CLICK");
  REQUIRE(clicks.size() == 5);
  CHECK(clicks[0]["detail"]["link"] == k_link);  // the first link of the HTML
  check_suppressions(stack);
}

TEST_CASE("mailer-fake-ses publishes identity notifications to mailerd", "[fake_ses][integration][sns]") {
  Stack stack(fake_sns_env(), {true, {"--sns-flavour", "notification", "--open-rate", "1", "--sns-delay-ms", "20"}});
  // Identity notifications know only Delivery, Bounce and Complaint.
  run_batch(stack, 5 + 2 + 1);

  CHECK(events_of(stack, "DELIVERY").size() == 5);
  CHECK(events_of(stack, "BOUNCE").size() == 2);
  CHECK(events_of(stack, "COMPLAINT").size() == 1);
  for (const char* none : {"SEND", "OPEN", "CLICK"}) {
    INFO(none);
    CHECK(events_of(stack, none).empty());
  }
  check_suppressions(stack);
}

TEST_CASE("mailerd refuses an envelope from mailer-fake-ses once it is tampered with", "[fake_ses][integration][sns]") {
  Capture capture;
  FakeSesFixture fake({true,
                       {"--sns-endpoint", capture.url(), "--no-sns-subscribe", "--sns-delay-ms", "0", "--sns-flavour",
                        "notification"}});
  send_direct(fake, {simulator("bounce")});
  REQUIRE(wait_until([&] { return capture.arrived() == 1; }, 5s));
  auto posted = capture.requests().at(0);
  CHECK(posted.get_header_value("x-amz-sns-message-type") == "Notification");
  CHECK(posted.get_header_value("x-amz-sns-topic-arn") == k_fake_sns_topic);
  auto envelope = json::parse(posted.body);
  CHECK(envelope["SignatureVersion"] == "2");
  CHECK(envelope["SigningCertURL"] == fake.endpoint() + "/_fake/sns-cert.pem");

  auto options = MailerdOptions{fake_sns_env(), {}};
  MailerdFixture mailerd(options);
  auto post = [&](const json& body) {
    auto res = mailerd.client()->Post("/webhooks/ses", body.dump(), "text/plain; charset=UTF-8");
    REQUIRE(res);
    INFO(res->body);
    return res->status;
  };
  auto forged = envelope;  // someone else's address in the signed Message
  std::string message = forged["Message"];
  message.replace(message.find(simulator("bounce")), simulator("bounce").size(), "customer@example.com");
  forged["Message"] = message;
  CHECK(post(forged) == 403);
  auto bad_signature = envelope;
  std::string signature = bad_signature["Signature"];
  signature[10] = signature[10] == 'A' ? 'B' : 'A';
  bad_signature["Signature"] = signature;
  CHECK(post(bad_signature) == 403);
  CHECK(post(envelope) == 200);  // the untouched original passes the same checks

  auto admin = mailerd.create_key("admin", "admin");
  auto res = mailerd.client()->Get("/v1/suppressions/customer@example.com", bearer(admin.key));
  REQUIRE(res);
  CHECK(res->status == 404);
  res = mailerd.client()->Get(("/v1/suppressions/" + simulator("bounce")).c_str(), bearer(admin.key));
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("mailer-fake-ses drops what its SNS queue cannot hold and stops while publishing",
          "[fake_ses][integration][sns]") {
  SECTION("a full queue drops and counts; SIGTERM does not wait for what is due later") {
    Capture capture;
    FakeSesFixture fake(
        {true,
         {"--sns-endpoint", capture.url(), "--no-sns-subscribe", "--sns-delay-ms", "60000", "--sns-queue-limit", "1"}});
    send_direct(fake, {"a@example.com", "b@example.com", "c@example.com"});
    auto sns = fake.sns_stats();
    CHECK(sns["pending"] == 1);  // the Send
    CHECK(sns["dropped"] == 3);  // the three Deliveries
    auto started = SteadyClock::now();
    CHECK(fake.process().stop(SIGTERM, 10s) == 0);
    CHECK(SteadyClock::now() - started < 5s);
    CHECK(fake.log().find("SNS notifications not sent at shutdown") != std::string::npos);
    CHECK(capture.arrived() == 0);
  }
  SECTION("SIGTERM while a POST is under way waits for its answer, not for the queue") {
    Capture capture(700ms);
    FakeSesFixture fake({true, {"--sns-endpoint", capture.url(), "--no-sns-subscribe", "--sns-delay-ms", "0"}});
    send_direct(fake, {"a@example.com", "b@example.com", "c@example.com"});
    REQUIRE(wait_until([&] { return capture.arrived() == 1; }, 5s));
    auto started = SteadyClock::now();
    CHECK(fake.process().stop(SIGTERM, 10s) == 0);
    CHECK(SteadyClock::now() - started < 5s);
    CHECK(capture.arrived() == 1);
  }
}

TEST_CASE("mailer-fake-ses checks its SNS options and serves its certificate", "[fake_ses][integration][sns]") {
  FakeSesFixture fake;
  httplib::Client client("127.0.0.1", fake.port());
  for (const char* bad :
       {R"({"endpoint":"https://127.0.0.1:1/webhooks/ses"})", R"({"endpoint":"http:///x"})", R"({"open_rate":1.5})",
        R"({"flavour":"raw"})", R"({"delay_ms":-1})", R"({"nope":1})", "[]"}) {
    INFO(bad);
    auto res = client.Post("/_fake/sns", bad, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
  }
  fake.set_sns({{"flavour", "notification"}, {"click_rate", 0.5}, {"seed", 9}, {"subscribe", false}});
  auto options = json::parse(client.Get("/_fake/sns")->body);
  CHECK(options["flavour"] == "notification");
  CHECK(options["click_rate"] == 0.5);
  CHECK(options["endpoint"] == "");
  CHECK(fake.sns_stats()["subscription"] == "none");

  auto pem = client.Get("/_fake/sns-cert.pem");
  REQUIRE(pem);
  CHECK(pem->status == 200);
  CHECK(sns::load_certificate_key(pem->body));  // an X.509 certificate with its public key
  auto confirm = client.Get("/_fake/sns-confirm?Token=guess");
  REQUIRE(confirm);
  CHECK(confirm->status == 400);
}
