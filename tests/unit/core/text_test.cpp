#include <catch2/catch.hpp>

#include "mailer/core/text.hpp"

using mailer::text::name_problem;
namespace text = mailer::text;

TEST_CASE("name_problem refuses empty, long and control-character names", "[core]") {
  CHECK_FALSE(name_problem("welcome", 10));
  CHECK(name_problem("", 10) == "must be 1 to 10 characters");
  CHECK(name_problem("elevenchars", 10) == "must be 1 to 10 characters");
  for (std::string name : {std::string("a\0b", 3), std::string("a\nb"), std::string("a\tb"), std::string("a\x7f")}) {
    INFO(name);
    CHECK(name_problem(name, 10) == "must not contain control characters (line breaks, tabs, NUL)");
  }
}

TEST_CASE("name_problem counts characters, not bytes", "[core]") {
  // "Grüße" is 5 characters in 7 bytes; the limit used to count the bytes, so a
  // 200-character name in another script was refused at 100 characters or fewer.
  CHECK_FALSE(name_problem("Grüße", 5));
  CHECK(name_problem("Grüße!", 5) == "must be 1 to 5 characters");
  std::string cyrillic;
  for (int i = 0; i < 200; ++i) cyrillic += "ж";
  CHECK_FALSE(name_problem(cyrillic, 200));
  CHECK(name_problem(cyrillic + "ж", 200) == "must be 1 to 200 characters");
  CHECK_FALSE(name_problem("😀", 1));
}

TEST_CASE("utf8_length counts code points of well-formed UTF-8 only", "[core]") {
  using mailer::text::utf8_length;
  CHECK(utf8_length("") == 0u);
  CHECK(utf8_length("abc") == 3u);
  CHECK(utf8_length("Zoë") == 3u);
  CHECK(utf8_length("€") == 1u);
  CHECK(utf8_length("\xf0\x9f\x98\x80") == 1u);  // U+1F600
  CHECK_FALSE(utf8_length("\xc3"));              // truncated
  CHECK_FALSE(utf8_length("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(utf8_length("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(utf8_length("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(utf8_length("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(utf8_length("\x80"));              // lone continuation
  CHECK(name_problem("a\xff", 10) == "must be UTF-8");
}

TEST_CASE("ascii_lower lowers A-Z and leaves every other byte", "[core][text]") {
  CHECK(mailer::text::ascii_lower("X-Amzn-ErrorType") == "x-amzn-errortype");
  CHECK(mailer::text::ascii_lower("ÉMAIL_1 [Z]") == "Émail_1 [z]");
  CHECK(mailer::text::ascii_lower(std::string("A\0B", 3)) == std::string("a\0b", 3));
}

TEST_CASE("ascii_iequals folds A-Z only", "[core][text]") {
  CHECK(text::ascii_iequals("Bearer", "bEARER"));
  CHECK(text::ascii_iequals("", ""));
  CHECK_FALSE(text::ascii_iequals("Bearer", "Bearer "));
  CHECK_FALSE(text::ascii_iequals("\xc3\x84", "\xc3\xa4"));  // Ä and ä: not ASCII
}

TEST_CASE("trim removes C's isspace characters; trim_blanks spaces and tabs only", "[core][text]") {
  CHECK(text::trim(" \t\r\n\v\fa b\f\v\n\r\t ") == "a b");
  CHECK(text::trim(" \n ").empty());
  CHECK(text::trim_blanks(" \ta b\t ") == "a b");
  CHECK(text::trim_blanks("\r\na\r\n") == "\r\na\r\n");
  CHECK(text::trim_blanks("  ").empty());
}

TEST_CASE("join puts the separator between items", "[core][text]") {
  CHECK(text::join({}, ", ").empty());
  CHECK(text::join({"GET"}, ", ") == "GET");
  CHECK(text::join({"GET", "", "POST"}, ", ") == "GET, , POST");
}

TEST_CASE("truncate_utf8 cuts at a byte bound without splitting a character", "[core]") {
  using mailer::text::truncate_utf8;
  CHECK(truncate_utf8("short", 10) == "short");
  CHECK(truncate_utf8("abcdef", 3) == "abc");
  CHECK(truncate_utf8("", 0).empty());
  // "é" is 2 bytes and "€" 3: a cut inside either drops it whole.
  CHECK(truncate_utf8("a\xC3\xA9", 2) == "a");
  CHECK(truncate_utf8("a\xE2\x82\xAC"
                      "b",
                      3) == "a");
  CHECK(truncate_utf8("a\xE2\x82\xAC"
                      "b",
                      4) == "a\xE2\x82\xAC");
  CHECK(mailer::text::utf8_length(truncate_utf8("\xE2\x82\xAC\xE2\x82\xAC", 5)) == std::optional<std::size_t>(1));
}

TEST_CASE("shorten and quote_outside keep short text whole and cut long text on a character", "[core][text]") {
  CHECK(text::shorten("msg_1") == "msg_1");
  CHECK(text::shorten(std::string(65, 'x')) == std::string(64, 'x') + "\xe2\x80\xa6");
  CHECK(text::quote_outside("Notif") == "'Notif'");
  CHECK(text::quote_outside("") == "''");
  CHECK(text::quote_outside(std::string(64, 'x')) == "'" + std::string(64, 'x') + "'");
  CHECK(text::quote_outside(std::string(400 * 1024, 'x')) == "'" + std::string(64, 'x') + "\xe2\x80\xa6'");
  // Three 2-byte characters cut after two: never half an "ä".
  CHECK(text::quote_outside("\xc3\xa4\xc3\xa4\xc3\xa4", 2) == "'\xc3\xa4\xc3\xa4\xe2\x80\xa6'");
  // A stray byte counts as one character, so the cut still moves forward.
  CHECK(text::quote_outside("\xff\xfe\xfd", 2) == "'\xff\xfe\xe2\x80\xa6'");
}

TEST_CASE("has_hidden_characters finds C1 controls and invisible or bidi format characters", "[core][text]") {
  for (const char* hidden : {"a\u0085b", "a\u061Cb", "a\u200Bb", "a\u200Fb", "a\u202Ab", "a\u202Eb", "a\u2060b",
                             "a\u2064b", "a\u2066b", "a\u2069b", "\uFEFFa", "\u0080", "\u009F"}) {
    INFO(hidden);
    CHECK(mailer::text::has_hidden_characters(hidden));
  }
  for (const char* shown : {"", "plain.pdf", "Gr\u00FC\u00DFe.pdf", "\u00A0nbsp", "\u2010dash", "a\u2065b",
                            "\u202Fnarrow", "\u65E5\u672C.pdf", "\xC2", "\xE2\x80"}) {
    INFO(shown);
    CHECK_FALSE(mailer::text::has_hidden_characters(shown));
  }
}
