// The fake's SNS side: its options (flags and POST /_fake/sns), the routes
// mailerd calls back on (the signing certificate, subscription confirmation)
// and the publisher's life. The simulator (simulator.cpp) decides what is
// published; the publisher (sns_publisher.cpp) delivers it.
#include "fake_ses.hpp"
#include "mailer/core/json.hpp"

namespace mailer::fake_ses {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_endpoint_bytes = 2048;

// http only: the fake is a loopback test tool and has no TLS client.
bool valid_endpoint(const std::string& url) {
  return url.empty() || (url.size() <= k_max_endpoint_bytes && url.rfind("http://", 0) == 0 && url.size() > 7 &&
                         url[7] != '/' && url.find_first_of(" \r\n\t") == std::string::npos);
}

bool valid_share(const json& value) {
  return value.is_number() && value.get<double>() >= 0 && value.get<double>() <= 1;
}

std::string xml_response(const std::string& topic_arn) {
  return "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n"
         "  <ConfirmSubscriptionResult>\n    <SubscriptionArn>" +
         topic_arn +
         ":mailer-fake-ses</SubscriptionArn>\n  </ConfirmSubscriptionResult>\n"
         "</ConfirmSubscriptionResponse>\n";
}

}  // namespace

json to_json(const SnsOptions& o) {
  return {{"endpoint", o.endpoint},
          {"topic_arn", o.topic_arn},
          {"flavour", o.flavour == SnsFlavour::event ? "event" : "notification"},
          {"open_rate", o.open_rate},
          {"click_rate", o.click_rate},
          {"seed", o.seed},
          {"delay_ms", o.delay_ms},
          {"subscribe", o.subscribe}};
}

bool apply_patch(SnsOptions& options, const json& patch, std::string& error) {
  if (!patch.is_object()) {
    error = "body must be a JSON object";
    return false;
  }
  SnsOptions next = options;
  for (const auto& [key, value] : patch.items()) {
    bool ok = true;
    if (key == "endpoint") {
      ok = value.is_string() && valid_endpoint(value.get<std::string>());
      if (ok) next.endpoint = value.get<std::string>();
    } else if (key == "topic_arn") {
      ok = value.is_string() && value.get<std::string>().rfind("arn:", 0) == 0 && value.get<std::string>().size() < 256;
      if (ok) next.topic_arn = value.get<std::string>();
    } else if (key == "flavour") {
      ok = value == "event" || value == "notification";
      if (ok) next.flavour = value == "event" ? SnsFlavour::event : SnsFlavour::notification;
    } else if (key == "open_rate" || key == "click_rate") {
      ok = valid_share(value);
      if (ok) (key == "open_rate" ? next.open_rate : next.click_rate) = value.get<double>();
    } else if (key == "seed") {
      ok = value.is_number_unsigned();
      if (ok) next.seed = value.get<std::uint64_t>();
    } else if (key == "delay_ms") {
      ok = value.is_number_integer() && value.get<long long>() >= 0 && value.get<long long>() <= 600000;
      if (ok) next.delay_ms = value.get<int>();
    } else if (key == "subscribe") {
      ok = value.is_boolean();
      if (ok) next.subscribe = value.get<bool>();
    } else {
      error = key + ": unknown SNS option";
      return false;
    }
    if (!ok) {
      error = key + ": invalid value";
      return false;
    }
  }
  options = std::move(next);
  return true;
}

SnsOptions Service::sns_snapshot() {
  std::scoped_lock lock(m_sns_mutex);
  return m_sns;
}

void Service::start_publishing(const std::string& listen, int port) {
  // A wildcard bind is still reached on loopback, where mailerd's tests and demo run.
  std::string host = listen == "0.0.0.0" || listen.empty() ? "127.0.0.1" : listen;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  m_publisher.start("http://" + host + ":" + std::to_string(port));
  auto sns = sns_snapshot();
  if (!sns.endpoint.empty() && sns.subscribe) m_publisher.subscribe(sns);
}

void Service::stop_publishing() { m_publisher.stop(); }

void Service::install_sns_routes(httplib::Server& server) {
  server.Get("/_fake/sns", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(to_json(sns_snapshot()).dump(), "application/json");
  });
  server.Post("/_fake/sns", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    auto patch = parse_json(req.body, "body");
    SnsOptions now;
    bool new_endpoint = false;
    {
      std::scoped_lock lock(m_sns_mutex);
      std::string before = m_sns.endpoint;
      if (!patch || !apply_patch(m_sns, *patch, error)) {
        if (!patch) error = patch.error().detail;
        res.status = 400;
        res.set_content(json{{"message", error}}.dump(), "application/json");
        return;
      }
      now = m_sns;
      new_endpoint = !now.endpoint.empty() && now.endpoint != before;
    }
    if (new_endpoint && now.subscribe) m_publisher.subscribe(now);
    res.set_content(to_json(now).dump(), "application/json");
  });
  server.Get("/_fake/sns-cert.pem", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(m_publisher.signer().certificate_pem(), "application/x-pem-file");
  });
  // What SNS answers a GET of SubscribeURL; any other token is refused.
  server.Get("/_fake/sns-confirm", [this](const httplib::Request& req, httplib::Response& res) {
    if (!m_publisher.confirm(req.get_param_value("Token"))) {
      res.status = 400;
      res.set_content(
          "<ErrorResponse><Error><Code>InvalidParameter</Code><Message>Invalid token</Message></Error>"
          "</ErrorResponse>\n",
          "text/xml");
      return;
    }
    log_line({{"msg", "SNS subscription confirmed"}, {"topic_arn", req.get_param_value("TopicArn")}});
    res.set_content(xml_response(sns_snapshot().topic_arn), "text/xml");
  });
}

}  // namespace mailer::fake_ses
