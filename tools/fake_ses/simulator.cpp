// The SES mailbox simulator and ordinary delivery as feedback records
// (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator):
//   success@          delivered
//   bounce@           hard bounce, Permanent/General, 550 5.1.1 user unknown
//   complaint@        delivered, then a complaint (feedback type abuse)
//   ooto@             delivered; the out-of-office reply goes to the sender's
//                     mailbox and has no notification type, so only Delivery
//   suppressionlist@  hard bounce as if the address were on the account's
//                     suppression list, Permanent/OnAccountSuppressionList
// at simulator.amazonses.com, also with a label (success+x@...). Any other
// address is delivered. The record shapes follow
// https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html and
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html.
#include <cstring>

#include "fake_ses.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::fake_ses {

namespace {

using nlohmann::json;

constexpr const char* k_simulator_domain = "simulator.amazonses.com";
constexpr const char* k_fallback_link = "https://example.com/";
constexpr std::size_t k_max_link_bytes = 2048;

enum class Outcome { delivered, bounced, suppressed, complained };

// The simulator's answer for `address` (bare, lower-cased).
Outcome outcome_of(const std::string& address) {
  auto at = address.rfind('@');
  if (at == std::string::npos || address.substr(at + 1) != k_simulator_domain) return Outcome::delivered;
  std::string local = address.substr(0, std::min(at, address.find('+')));
  if (local == "bounce") return Outcome::bounced;
  if (local == "suppressionlist") return Outcome::suppressed;
  if (local == "complaint") return Outcome::complained;
  return Outcome::delivered;  // success, ooto, and names the simulator does not know
}

// A share in [0, 1) fixed by seed, purpose and address, so the same recipients
// open and click on every run whatever order the sends arrive in.
double draw(std::uint64_t seed, const char* purpose, const std::string& address) {
  auto digest = crypto::sha256(std::to_string(seed) + "\n" + purpose + "\n" + address);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | digest[static_cast<std::size_t>(i)];
  return static_cast<double>(n >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

// arn:aws:sns:REGION:ACCOUNT:NAME -> field `index` (3 region, 4 account).
std::string arn_field(const std::string& arn, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = arn.find(':', start);
    if (start == std::string::npos) return {};
    ++start;
  }
  return arn.substr(start, arn.find(':', start) - start);
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

// The first http(s) link of the HTML part, where a click would most likely land.
std::string first_link(const json& body) {
  const auto& simple_body = body["Content"]["Simple"]["Body"];
  if (!simple_body.contains("Html")) return k_fallback_link;
  const std::string html = simple_body["Html"]["Data"].get<std::string>();
  const std::string lower = text::ascii_lower(html);
  for (std::size_t at = lower.find("href="); at != std::string::npos; at = lower.find("href=", at + 5)) {
    std::size_t start = at + 5;
    if (start >= html.size() || (html[start] != '"' && html[start] != '\'')) continue;
    auto end = html.find(html[start], start + 1);
    if (end == std::string::npos) break;
    std::string link = html.substr(start + 1, end - start - 1);
    for (auto amp = link.find("&amp;"); amp != std::string::npos; amp = link.find("&amp;", amp + 1))
      link.replace(amp, 5, "&");
    auto scheme = text::ascii_lower(link.substr(0, 8));
    if ((scheme.rfind("http://", 0) == 0 || scheme == "https://") && link.size() <= k_max_link_bytes) return link;
  }
  return k_fallback_link;
}

json mail_object(const json& body, const std::string& message_id, std::chrono::system_clock::time_point sent_at,
                 const SnsOptions& options) {
  const std::string from = body["FromEmailAddress"].get<std::string>();
  const std::string subject = body["Content"]["Simple"]["Subject"]["Data"].get<std::string>();
  const std::string account = arn_field(options.topic_arn, 4);
  json destination = json::array();
  for (const auto& address : all_recipients(body)) destination.push_back(bare_address(address));
  json to = body["Destination"].value("ToAddresses", json::array());
  json headers = json::array({{{"name", "From"}, {"value", from}}});
  if (!to.empty()) headers.push_back({{"name", "To"}, {"value", text::join(to.get<std::vector<std::string>>(), ", ")}});
  headers.push_back({{"name", "Subject"}, {"value", subject}});
  for (const auto& h : body["Content"]["Simple"].value("Headers", json::array()))
    headers.push_back({{"name", h["Name"]}, {"value", h["Value"]}});
  json mail = {{"timestamp", iso_time(sent_at)},
               {"source", from},
               {"sourceArn", "arn:aws:ses:" + arn_field(options.topic_arn, 3) + ":" + account + ":identity/" +
                                 domain_of(bare_address(from))},
               {"sendingAccountId", account},
               {"messageId", message_id},
               {"destination", destination},
               {"headersTruncated", false},
               {"headers", headers},
               {"commonHeaders",
                {{"from", json::array({from})},
                 {"to", to},
                 {"messageId", "<" + message_id + "@email.amazonses.com>"},
                 {"subject", subject}}}};
  if (options.flavour == SnsFlavour::notification) {
    mail["sourceIp"] = "127.0.0.1";
    mail["callerIdentity"] = "mailer-fake-ses";
    return mail;
  }
  json tags = {{"ses:source-ip", {"127.0.0.1"}},
               {"ses:from-domain", {domain_of(bare_address(from))}},
               {"ses:caller-identity", {"mailer-fake-ses"}}};
  if (body.contains("ConfigurationSetName"))
    tags["ses:configuration-set"] = json::array({body["ConfigurationSetName"]});
  for (const auto& tag : body.value("EmailTags", json::array()))
    tags[tag["Name"].get<std::string>()] = json::array({tag["Value"]});
  mail["tags"] = tags;
  return mail;
}

std::string feedback_id(const std::string& message_id, const char* kind, const std::string& address) {
  return message_id.substr(0, 16) + "-" + crypto::sha256_hex(message_id + kind + address).substr(0, 32) + "-000000";
}

class Builder {
 public:
  Builder(const json& body, const std::string& message_id, std::chrono::system_clock::time_point sent_at,
          const SnsOptions& options)
      : m_message_id(message_id),
        m_options(options),
        m_mail(mail_object(body, message_id, sent_at, options)),
        m_when(iso_time(sent_at + std::chrono::milliseconds(options.delay_ms))) {}

  void add(const std::string& type, const char* object_name, json object) {
    bool event = m_options.flavour == SnsFlavour::event;
    m_records.push_back({type, {{event ? "eventType" : "notificationType", type}, {"mail", m_mail}}});
    m_records.back().record[object_name] = std::move(object);
  }
  void delivery(const std::string& address) {
    add("Delivery", "delivery",
        {{"timestamp", m_when},
         {"processingTimeMillis", m_options.delay_ms},
         {"recipients", {address}},
         {"smtpResponse", "250 2.6.0 Message received"},
         {"remoteMtaIp", "127.0.0.1"},
         {"reportingMTA", "a8-70.smtp-out.amazonses.com"}});
  }
  void bounce(const std::string& address, const char* subtype, const char* diagnostic) {
    add("Bounce", "bounce",
        {{"feedbackId", feedback_id(m_message_id, "bounce", address)},
         {"bounceType", "Permanent"},
         {"bounceSubType", subtype},
         {"bouncedRecipients",
          {{{"emailAddress", address}, {"action", "failed"}, {"status", "5.1.1"}, {"diagnosticCode", diagnostic}}}},
         {"timestamp", m_when},
         {"reportingMTA", "dsn; a8-96.smtp-out.amazonses.com"}});
  }
  void complaint(const std::string& address) {
    add("Complaint", "complaint",
        {{"feedbackId", feedback_id(m_message_id, "complaint", address)},
         {"complaintSubType", nullptr},
         {"complainedRecipients", {{{"emailAddress", address}}}},
         {"timestamp", m_when},
         {"userAgent", "Amazon SES Mailbox Simulator"},
         {"complaintFeedbackType", "abuse"},
         {"arrivalDate", m_when}});
  }
  // SES learns of an open or a click per message (one tracking pixel, one
  // link), not per recipient: `address` is the first one it was delivered to.
  void engagement(const std::string& address, const json& body) {
    if (m_options.flavour != SnsFlavour::event) return;
    json reader = {{"ipAddress", "192.0.2.1"},
                   {"timestamp", m_when},
                   {"userAgent", "Mozilla/5.0 (X11; Linux x86_64) mailer-fake-ses"}};
    if (draw(m_options.seed, "open", address) < m_options.open_rate) add("Open", "open", reader);
    if (draw(m_options.seed, "click", address) < m_options.click_rate) {
      json click = reader;
      click["link"] = first_link(body);
      click["linkTags"] = json::object();
      add("Click", "click", click);
    }
  }
  std::vector<FeedbackRecord> take() { return std::move(m_records); }

 private:
  std::string m_message_id;
  const SnsOptions& m_options;
  json m_mail;
  std::string m_when;
  std::vector<FeedbackRecord> m_records;
};

}  // namespace

std::vector<FeedbackRecord> simulate_feedback(const json& body, const std::string& message_id,
                                              std::chrono::system_clock::time_point sent_at,
                                              const SnsOptions& options) {
  Builder records(body, message_id, sent_at, options);
  if (options.flavour == SnsFlavour::event) records.add("Send", "send", json::object());
  std::string first_delivered;
  for (const auto& given : all_recipients(body)) {
    const std::string address = bare_address(given);
    const Outcome outcome = outcome_of(address);
    switch (outcome) {
      case Outcome::bounced: records.bounce(address, "General", "smtp; 550 5.1.1 user unknown"); break;
      case Outcome::suppressed:
        records.bounce(address, "OnAccountSuppressionList",
                       "Amazon SES did not send the message to this address because it is on the suppression list "
                       "for your account.");
        break;
      case Outcome::complained:
        records.delivery(address);
        records.complaint(address);
        break;
      case Outcome::delivered: records.delivery(address); break;
    }
    bool delivered = outcome == Outcome::delivered || outcome == Outcome::complained;
    if (delivered && first_delivered.empty()) first_delivered = address;
  }
  if (!first_delivered.empty()) records.engagement(first_delivered, body);
  return records.take();
}

}  // namespace mailer::fake_ses
