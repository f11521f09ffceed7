#include <catch2/catch.hpp>

#include "mailer/render/address.hpp"

using mailer::ErrorCode;
namespace render = mailer::render;

namespace {

std::string normalized(std::string_view input) {
  auto result = render::normalize_address(input);
  INFO(input);
  REQUIRE(result);
  return *result;
}

std::string rejection(std::string_view input) {
  auto result = render::normalize_address(input);
  INFO(input);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::invalid_input);
  return result.error().detail;
}

std::string mailbox_rejection(std::string_view input) {
  auto result = render::parse_mailbox(input);
  INFO(input);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::invalid_input);
  return result.error().detail;
}

}  // namespace

TEST_CASE("render::normalize_address accepts and normalizes valid addresses", "[render]") {
  CHECK(normalized("ana@example.com") == "ana@example.com");
  CHECK(normalized("  ANA@Example.COM\t") == "ANA@example.com");
  CHECK(normalized("first.last+tag@sub.example.co.uk") == "first.last+tag@sub.example.co.uk");
  CHECK(normalized("!#$%&'*+/=?^_`{|}~-@example.com") == "!#$%&'*+/=?^_`{|}~-@example.com");
  CHECK(normalized("a@a-b.c1.example") == "a@a-b.c1.example");
  CHECK(normalized("a@xn--bcher-kva.example") == "a@xn--bcher-kva.example");
}

TEST_CASE("render::normalize_address converts IDN domains to punycode", "[render]") {
  CHECK(normalized("user@bücher.example") == "user@xn--bcher-kva.example");
  CHECK(normalized("User@BÜCHER.Example") == "User@xn--bcher-kva.example");
  CHECK(normalized("a@müller.example") == "a@xn--mller-kva.example");
  CHECK(normalized("a@bücher。example") == "a@xn--bcher-kva.example");  // UTS #46 maps the ideographic full stop
  CHECK(rejection("a@💩.example") ==
        "domain is not a valid internationalized domain name: string contains a disallowed character");
  CHECK(rejection("a@-bücher.example") == "domain label must not start or end with a hyphen");
}

TEST_CASE("render::suppression_key lowercases the whole address", "[render]") {
  CHECK(render::suppression_key(normalized("ANA@Example.COM")) == "ana@example.com");
  CHECK(render::suppression_key("Ana.B@xn--bcher-kva.example") == "ana.b@xn--bcher-kva.example");
}

TEST_CASE("render::normalize_address rejects invalid addresses with a reason", "[render]") {
  CHECK(rejection("") == "address is empty");
  CHECK(rejection("   ") == "address is empty");
  CHECK(rejection("ana.example.com") == "address must contain exactly one @");
  CHECK(rejection("a@b@example.com") == "address must contain exactly one @");
  CHECK(rejection("\"a b\"@example.com") == "quoted local parts are not supported");
  CHECK(rejection("@example.com") == "local part is empty");
  CHECK(rejection("jürgen@example.com") == "non-ASCII local part is not accepted by SES");
  CHECK(rejection("a b@example.com") == "local part contains invalid character ' '");
  CHECK(rejection("a(b)@example.com") == "local part contains invalid character '('");
  CHECK(rejection("a\x01@example.com") == "local part contains a control character");
  CHECK(rejection(".a@example.com") == "local part must not start or end with a dot");
  CHECK(rejection("a.@example.com") == "local part must not start or end with a dot");
  CHECK(rejection("a..b@example.com") == "local part must not contain two dots in a row");
  CHECK(rejection("a@") == "domain is empty");
  CHECK(rejection("a@[192.0.2.1]") == "address literals are not supported");
  CHECK(rejection("a@exa_mple.com") == "domain contains invalid character '_'");
  CHECK(rejection("a@exa mple.com") == "domain contains invalid character ' '");
  CHECK(rejection("a@localhost") == "domain must contain at least one dot");
  CHECK(rejection("a@example..com") == "domain has an empty label");
  CHECK(rejection("a@.example.com") == "domain has an empty label");
  CHECK(rejection("a@example.com.") == "domain has an empty label");
  CHECK(rejection("a@-example.com") == "domain label must not start or end with a hyphen");
  CHECK(rejection("a@example-.com") == "domain label must not start or end with a hyphen");
}

TEST_CASE("render::normalize_address enforces length limits", "[render]") {
  const std::string local64(64, 'l');
  const std::string label63(63, 'd');
  CHECK(normalized(local64 + "@example.com") == local64 + "@example.com");
  CHECK(rejection(local64 + "l@example.com") == "local part is longer than 64 octets");
  CHECK(normalized("a@" + label63 + ".com") == "a@" + label63 + ".com");
  CHECK(rejection("a@" + label63 + "d.com") == "domain label is longer than 63 octets");
  CHECK(rejection("a@" + std::string(60, 'd') + "ü.com") == "domain label is longer than 63 octets");
  // 4 labels of 63 + 3 dots = 255 octets of domain: over the 254 whole-address limit.
  const std::string domain255 = label63 + "." + label63 + "." + label63 + "." + label63;
  CHECK(rejection("a@" + domain255) == "address is longer than 254 octets");
  CHECK(rejection("a@" + domain255 + ".x") == "domain is longer than 255 octets");
  // 64 + 1 + 189 = 254 octets exactly: accepted; one more octet is not.
  const std::string domain189 = label63 + "." + label63 + "." + std::string(61, 'd');
  CHECK(normalized(local64 + "@" + domain189).size() == 254);
  CHECK(rejection(local64 + "@" + domain189 + "d") == "address is longer than 254 octets");
}

TEST_CASE("render::parse_mailbox reads bare addresses and name-addr forms", "[render]") {
  using render::Mailbox;
  CHECK(*render::parse_mailbox("news@Example.com") == Mailbox{"", "news@example.com"});
  CHECK(*render::parse_mailbox("<news@example.com>") == Mailbox{"", "news@example.com"});
  CHECK(*render::parse_mailbox(" Shop <news@example.com> ") == Mailbox{"Shop", "news@example.com"});
  CHECK(*render::parse_mailbox("\"Name, Inc.\" <news@example.com>") == Mailbox{"Name, Inc.", "news@example.com"});
  CHECK(*render::parse_mailbox("\"Say \\\"hi\\\" \\\\o/\" <a@example.com>") ==
        Mailbox{"Say \"hi\" \\o/", "a@example.com"});
  CHECK(*render::parse_mailbox("Zoë Müller <news@bücher.example>") ==
        Mailbox{"Zoë Müller", "news@xn--bcher-kva.example"});
  CHECK(*render::parse_mailbox("Shop, Inc. <a@example.com>") == Mailbox{"Shop, Inc.", "a@example.com"});
}

TEST_CASE("render::parse_mailbox rejects malformed mailboxes", "[render]") {
  CHECK(mailbox_rejection("") == "mailbox is empty");
  CHECK(mailbox_rejection("Shop <news@example.com") == "missing > after the address");
  CHECK(mailbox_rejection("\"Shop <news@example.com>") == "display name has an unterminated quote");
  CHECK(mailbox_rejection("\"Shop\" x <news@example.com>") == "text after the closing quote of the display name");
  CHECK(mailbox_rejection("Sh\"op <news@example.com>") == "display name contains invalid character '\"'");
  CHECK(mailbox_rejection("Sh>op <news@example.com>") == "display name contains invalid character '>'");
  CHECK(mailbox_rejection("\"Shop\r\nBcc: x\" <news@example.com>") == "display name contains a control character");
  CHECK(mailbox_rejection("Sh\xC3op <news@example.com>") == "display name is not valid UTF-8");
  CHECK(mailbox_rejection("Shop <jürgen@example.com>") == "non-ASCII local part is not accepted by SES");
  CHECK(mailbox_rejection("Shop <>") == "address is empty");
}

TEST_CASE("render::format_mailbox_for_ses encodes and quotes display names", "[render]") {
  using render::Mailbox;
  CHECK(render::format_mailbox_for_ses({"", "a@example.com"}) == "a@example.com");
  CHECK(render::format_mailbox_for_ses({"Shop", "a@example.com"}) == "Shop <a@example.com>");
  CHECK(render::format_mailbox_for_ses({"Name, Inc.", "a@example.com"}) == "\"Name, Inc.\" <a@example.com>");
  CHECK(render::format_mailbox_for_ses({"Say \"hi\" \\o/", "a@example.com"}) ==
        "\"Say \\\"hi\\\" \\\\o/\" <a@example.com>");
  CHECK(render::format_mailbox_for_ses({"Zoë Müller", "news@mail.example.com"}) ==
        "=?UTF-8?B?Wm/DqyBNw7xsbGVy?= <news@mail.example.com>");
  SECTION("long names split into encoded-words of at most 75 characters between characters") {
    // 30 two-byte characters = 60 bytes: 22 characters (44 bytes) fit the first word.
    std::string name;
    for (int i = 0; i < 30; ++i) name += "ü";
    const std::string formatted = render::format_mailbox_for_ses({name, "a@example.com"});
    const std::string first = formatted.substr(0, formatted.find(' '));
    const std::string second = formatted.substr(first.size() + 1, formatted.find(" <") - first.size() - 1);
    CHECK(first.size() <= 75);
    CHECK(first == "=?UTF-8?B?" + std::string("w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7w=") + "?=");
    CHECK(second == "=?UTF-8?B?w7zDvMO8w7zDvMO8w7zDvA==?=");
    CHECK(formatted.substr(formatted.find(" <")) == " <a@example.com>");
  }
}
