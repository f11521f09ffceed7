#include "support/metrics_scrape.hpp"

#include <catch2/catch.hpp>

#include "support/prometheus_text.hpp"

namespace mailer::test {

std::string scrape_metrics(const MailerdFixture& mailerd, const httplib::Headers& headers) {
  auto response = mailerd.client()->Get("/metrics", headers);
  REQUIRE(response);
  REQUIRE(response->status == 200);
  CHECK(response->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  return response->body;
}

double metric_value(const std::string& text, const std::string& series) {
  auto value = sample_value(text, series);
  INFO(series << " in:\n" << text);
  REQUIRE(value);
  return *value;
}

void require_promtool_accepts(const std::string& text) {
  auto verdict = promtool_check(text);
  if (!verdict.found) FAIL("promtool not found: install the Debian package prometheus (make deps)");
  INFO(verdict.output << "\n---- scraped text ----\n" << text);
  CHECK(verdict.exit_code == 0);
  CHECK(verdict.output.empty());
}

}  // namespace mailer::test
