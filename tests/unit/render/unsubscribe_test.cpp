#include <catch2/catch.hpp>

#include "mailer/crypto/crypto.hpp"
#include "mailer/render/unsubscribe.hpp"

namespace render = mailer::render;
namespace crypto = mailer::crypto;

namespace {
constexpr std::string_view k_secret = "s3cret-key-for-tests";
constexpr std::string_view k_message = "msg_01JD3K8Q2X7M9P4R5T6V";

/// `token` with character `index` replaced by another base64url character.
std::string flip(std::string token, std::size_t index) {
  token[index] = token[index] == 'A' ? 'B' : 'A';
  return token;
}
}  // namespace

TEST_CASE("render unsubscribe tokens round-trip", "[render]") {
  const auto token = render::make_unsubscribe_token(k_secret, k_message);
  CHECK(token.size() == 55);
  CHECK(token.substr(0, token.find('.')) == crypto::base64url_encode(k_message));
  CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
        std::string::npos);
  CHECK(render::verify_unsubscribe_token(k_secret, token) == std::string(k_message));
  CHECK(render::make_unsubscribe_token(k_secret, k_message) == token);  // deterministic
  CHECK(render::verify_unsubscribe_token("x", render::make_unsubscribe_token("x", "any id / with ünïcode")) ==
        std::string("any id / with ünïcode"));
}

TEST_CASE("render::verify_unsubscribe_token refuses forged or malformed tokens", "[render]") {
  const auto token = render::make_unsubscribe_token(k_secret, k_message);
  const auto dot = token.find('.');
  SECTION("other secret") { CHECK(render::verify_unsubscribe_token("other", token) == std::nullopt); }
  SECTION("empty secret") {
    CHECK(render::verify_unsubscribe_token("", render::make_unsubscribe_token("", k_message)) == std::nullopt);
  }
  SECTION("every single altered character") {
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (i == dot) continue;
      INFO(i);
      CHECK(render::verify_unsubscribe_token(k_secret, flip(token, i)) == std::nullopt);
    }
  }
  SECTION("message id swapped, signature kept") {
    const auto other = crypto::base64url_encode("msg_01JD3K8Q2X7M9P4R5T6W");
    CHECK(render::verify_unsubscribe_token(k_secret, other + token.substr(dot)) == std::nullopt);
  }
  SECTION("malformed") {
    for (std::string bad : {std::string(""), std::string("."), token.substr(0, dot), token.substr(0, dot + 1),
                            token.substr(dot), token + "A", token + ".", token.substr(0, token.size() - 1),
                            token.substr(0, dot) + ".!!" + token.substr(dot + 3), "*" + token}) {
      INFO(bad);
      CHECK(render::verify_unsubscribe_token(k_secret, bad) == std::nullopt);
    }
  }
}

TEST_CASE("render::unsubscribe_url joins base and token", "[render]") {
  CHECK(render::unsubscribe_url("https://mail.example.com", "T.K") == "https://mail.example.com/u/T.K");
  CHECK(render::unsubscribe_url("https://mail.example.com//", "T") == "https://mail.example.com/u/T");
  CHECK(render::unsubscribe_url("http://127.0.0.1:8080/base/", "T") == "http://127.0.0.1:8080/base/u/T");
}

TEST_CASE("render::list_unsubscribe_headers follow RFC 2369 and RFC 8058", "[render]") {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  CHECK(render::list_unsubscribe_headers("https://m.example/u/T", "") ==
        Headers{{"List-Unsubscribe", "<https://m.example/u/T>"},
                {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}});
  CHECK(render::list_unsubscribe_headers("https://m.example/u/T", "unsub@m.example") ==
        Headers{{"List-Unsubscribe", "<https://m.example/u/T>, <mailto:unsub@m.example?subject=unsubscribe>"},
                {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}});
}
