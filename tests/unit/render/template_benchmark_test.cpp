// Hidden micro-benchmark ("[.]": not run by ctest). Run it with
//   build/tests/mailer_unit_tests "[benchmark]"
// It prints microseconds per message for merge_variables + render of a realistic
// newsletter (about 6 KB of HTML, 2 KB of text, a loop of six products).

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <iostream>

#include "mailer/render/template.hpp"

using nlohmann::json;
namespace render = mailer::render;

namespace {

std::string newsletter_html() {
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{{shop.name}} — {{issue.title}}</title>"
      "<style>body{font-family:Helvetica,Arial,sans-serif;color:#222;background:#f4f4f4;margin:0}"
      ".wrap{max-width:600px;margin:0 auto;background:#fff}.item{padding:12px;border-bottom:1px solid #eee}"
      ".price{color:#0a7;font-weight:bold}.footer{font-size:12px;color:#888;padding:24px}</style></head>"
      "<body><div class=\"wrap\"><table width=\"100%\"><tr><td><img src=\"{{shop.logo}}\" alt=\"{{shop.name}}\">"
      "</td></tr></table>\n<h1>{{issue.title}}</h1>\n"
      "<p>{{#first_name}}Hello {{first_name}},{{/first_name}}{{^first_name}}Hello,{{/first_name}}</p>\n";
  for (int i = 0; i < 6; ++i) {
    html +=
        "<p>Our editors picked these for you this week. Lorem ipsum dolor sit amet, consectetur "
        "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n";
  }
  html +=
      "{{#products}}<div class=\"item\"><a href=\"{{{url}}}?utm_source=newsletter&amp;utm_campaign={{campaign}}\">"
      "<img src=\"{{{image}}}\" width=\"120\" alt=\"{{name}}\"></a><h3>{{name}}</h3><p>{{description}}</p>"
      "<span class=\"price\">{{price}} {{currency}}</span>{{#sale}} <b>SALE</b>{{/sale}}</div>\n{{/products}}\n"
      "{{#vip}}<p>As a VIP member you get free shipping on all orders.</p>{{/vip}}\n"
      "<div class=\"footer\"><p>{{shop.name}}, {{shop.address}}</p><p>You receive this email at {{email}} "
      "because you subscribed to our newsletter.</p><p><a href=\"{{{unsubscribe_url}}}\">Unsubscribe</a></p>"
      "</div></div></body></html>\n";
  return html;
}

std::string newsletter_text() {
  std::string text =
      "{{issue.title}}\n\n{{#first_name}}Hello {{first_name}},{{/first_name}}{{^first_name}}Hello,{{/first_name}}\n\n";
  for (int i = 0; i < 6; ++i) text += "Our editors picked these for you this week. Lorem ipsum dolor sit amet.\n";
  text +=
      "{{#products}}\n* {{name}} — {{price}} {{currency}}{{#sale}} (SALE){{/sale}}\n  {{url}}\n{{/products}}\n"
      "--\n{{shop.name}}, {{shop.address}}\nUnsubscribe: {{unsubscribe_url}}\n";
  return text;
}

json batch_variables() {
  json products = json::array();
  for (int i = 0; i < 6; ++i) {
    products.push_back({{"name", "Product " + std::to_string(i) + " & friends"},
                        {"description", "A fine <thing> for everyday use, made with care."},
                        {"price", 19.99 + i},
                        {"url", "https://shop.example/p/" + std::to_string(i)},
                        {"image", "https://cdn.shop.example/i/" + std::to_string(i) + ".jpg"},
                        {"sale", i % 2 == 0}});
  }
  return {{"shop",
           {{"name", "Example Shop"},
            {"logo", "https://cdn.shop.example/logo.png"},
            {"address", "1 Main St, Springfield"}}},
          {"issue", {{"title", "Weekly picks — Grüße"}}},
          {"campaign", "2026-12"},
          {"currency", "EUR"},
          {"products", products}};
}

}  // namespace

TEST_CASE("render::render speed on a realistic newsletter", "[.][benchmark][render]") {
  auto compiled =
      render::compile_template({"{{first_name}}, this week at {{shop.name}}", newsletter_html(), newsletter_text()});
  REQUIRE(compiled);
  const json batch = batch_variables();
  constexpr int k_messages = 5000;
  std::size_t bytes = 0;
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < k_messages; ++i) {
    const json recipient = {{"first_name", "Ana " + std::to_string(i)}, {"vip", i % 3 == 0}};
    const auto variables = render::merge_variables(
        batch, recipient, {"ana" + std::to_string(i) + "@example.com", "https://m.example/u/TOKEN", "bat_X"});
    auto message = render::render(*compiled, variables);
    REQUIRE(message);
    bytes += message->html->size() + message->text->size();
  }
  const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
  // CPU time as well: on a shared machine wall time mostly measures the neighbours.
  const double cpu_us = 1e6 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::cout << "render benchmark: " << cpu_us / k_messages << " us CPU (" << elapsed.count() / k_messages
            << " us wall) per message (merge + render), " << bytes / k_messages << " bytes of html+text each\n";
  CHECK(bytes > 0);
}
