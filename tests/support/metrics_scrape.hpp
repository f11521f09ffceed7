#pragma once
// Catch2 helpers for tests that read a real mailerd's GET /metrics: fail the
// test case at once when the scrape, a sample or promtool's verdict is wrong.

#include <string>

#include "support/mailerd_fixture.hpp"

namespace mailer::test {

/// GET /metrics with `headers`; REQUIREs a 200 in the Prometheus text format
/// (version 0.0.4) and returns the body.
std::string scrape_metrics(const MailerdFixture& mailerd, const httplib::Headers& headers = {});

/// The value of the sample line `series` (as sample_value); REQUIREs it.
double metric_value(const std::string& text, const std::string& series);

/// REQUIREs promtool (Debian package prometheus) and CHECKs that
/// `promtool check metrics` accepts `text` without a complaint.
void require_promtool_accepts(const std::string& text);

}  // namespace mailer::test
