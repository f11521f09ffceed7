#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/ctl_config.hpp"
#include "mailer/net/http_client.hpp"
#include "support/fake_container.hpp"
#include "support/temp_dir.hpp"

namespace {

using Env = std::map<std::string, std::string>;

struct CheckRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Tests reach only loopback: the credential lookup at the end of the check
// must not try the real instance metadata service.
CheckRun check(const std::string& path, bool json, Env vars) {
  vars.emplace("AWS_EC2_METADATA_DISABLED", "true");
  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  const mailer::EnvLookup env = [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
  std::ostringstream out;
  std::ostringstream err;
  CheckRun run;
  run.exit_code = mailer::cli::run_config_check(path, json, out, err, env, names);
  run.out = out.str();
  run.err = err.str();
  return run;
}

// The line of `key` in the table output, with runs of spaces squeezed to one.
std::string line_of(const std::string& output, const std::string& key) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + " ", 0) != 0) continue;
    std::string squeezed;
    for (char c : line) {
      if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
    }
    return squeezed;
  }
  return "";
}

const Env k_secrets = {{"MAILER_SES_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                       {"MAILER_SES_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                       {"MAILER_UNSUBSCRIBE_SECRET", "0123456789abcdef-unsub"}};

}  // namespace

TEST_CASE("config check prints each key with value and source", "[cli][config]") {
  mailer::test::TempDir dir;
  const auto path = (dir / "mailerd.toml").string();
  std::ofstream(path) << "[worker]\nconcurrency = 4\n";
  // An existing database file: no "database: ... does not exist" line.
  const auto db = (dir / "mailer.db").string();
  std::ofstream(db) << "";
  auto run = check(path, false, {{"PORT", "9000"}, {"MAILER_LOG_LEVEL", "debug"}, {"MAILER_DB_PATH", db}});
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(line_of(run.out, "server.port") == "server.port 9000 env PORT");
  CHECK(line_of(run.out, "log.level") == "log.level \"debug\" env MAILER_LOG_LEVEL");
  CHECK(line_of(run.out, "worker.concurrency") == "worker.concurrency 4 file");
  CHECK(line_of(run.out, "worker.attempts") == "worker.attempts 5 default");
  CHECK(line_of(run.out, "ses.endpoint") == "ses.endpoint (unset) default");
  CHECK(line_of(run.out, "ses.session_token") == "ses.session_token (unset) default");
  std::size_t lines = 0;
  for (char c : run.out) lines += c == '\n';
  // One line per key, then the credentials line.
  CHECK(lines == mailer::config_keys().size() + 1);
  CHECK(run.out.find("\ncredentials: ") != std::string::npos);
}

TEST_CASE("config check masks secrets", "[cli][config]") {
  SECTION("table") {
    auto run = check("", false, k_secrets);
    REQUIRE(run.exit_code == 0);
    CHECK(line_of(run.out, "ses.secret_access_key") ==
          "ses.secret_access_key ******** env MAILER_SES_SECRET_ACCESS_KEY");
    CHECK(line_of(run.out, "ses.access_key_id") == "ses.access_key_id ********MPLE env MAILER_SES_ACCESS_KEY_ID");
    CHECK(line_of(run.out, "unsubscribe.secret") == "unsubscribe.secret ******** env MAILER_UNSUBSCRIBE_SECRET");
    for (const auto& [name, value] : k_secrets) CHECK(run.out.find(value) == std::string::npos);
  }
  SECTION("json") {
    auto run = check("", true, k_secrets);
    REQUIRE(run.exit_code == 0);
    for (const auto& [name, value] : k_secrets) CHECK(run.out.find(value) == std::string::npos);
    const auto report = nlohmann::json::parse(run.out);
    CHECK(report["valid"] == true);
    CHECK(report["config_file"].is_null());
    REQUIRE(report["entries"].size() == mailer::config_keys().size());
    std::map<std::string, nlohmann::json> by_key;
    for (const auto& e : report["entries"]) by_key[e["key"]] = e;
    CHECK(by_key["ses.secret_access_key"]["value"] == "********");
    CHECK(by_key["ses.secret_access_key"]["source"] == "env");
    CHECK(by_key["ses.secret_access_key"]["env"] == "MAILER_SES_SECRET_ACCESS_KEY");
    CHECK(by_key["server.port"]["value"] == 8080);
    CHECK(by_key["server.port"]["source"] == "default");
    CHECK_FALSE(by_key["server.port"].contains("env"));
    CHECK(by_key["ses.endpoint"]["value"].is_null());
    CHECK(by_key["server.cors_origins"]["value"] == nlohmann::json::array());
    CHECK(by_key["metrics.public"]["value"] == true);
  }
}

TEST_CASE("config check reports several errors at once and exits 78", "[cli][config]") {
  mailer::test::TempDir dir;
  const auto path = (dir / "mailerd.toml").string();
  std::ofstream(path) << "[server]\nprot = 1\n[worker]\nconcurrency = 0\n";
  SECTION("table") {
    auto run = check(path, false, {{"MAILER_LOG_FORMAT", "xml"}, {"MAILER_UNSUBSCRIBE_SECRET", "short-secret"}});
    CHECK(run.exit_code == 78);
    CHECK(run.out.empty());
    CHECK_THAT(run.err, Catch::StartsWith("invalid configuration (4 problems):\n"));
    CHECK_THAT(run.err, Catch::Contains("  server.prot: unknown key; did you mean server.port?\n"));
    CHECK_THAT(run.err, Catch::Contains("  worker.concurrency: 0: must be at least 1\n"));
    CHECK_THAT(run.err,
               Catch::Contains("  log.format: \"xml\": must be one of auto, json, pretty (from MAILER_LOG_FORMAT)\n"));
    CHECK_THAT(run.err, Catch::Contains("  unsubscribe.secret: ********: must be at least 16"));
    CHECK(run.err.find("short-secret") == std::string::npos);
  }
  SECTION("json also on stdout") {
    auto run = check(path, true, {});
    CHECK(run.exit_code == 78);
    CHECK_THAT(run.err, Catch::Contains("worker.concurrency: 0: must be at least 1"));
    const auto report = nlohmann::json::parse(run.out);
    CHECK(report["valid"] == false);
    REQUIRE(report["errors"].size() == 2);
    CHECK(report["errors"][0]["key"] == "server.prot");
    CHECK(report["errors"][1] == nlohmann::json({{"key", "worker.concurrency"}, {"message", "0: must be at least 1"}}));
  }
  SECTION("missing file") {
    auto run = check((dir / "none.toml").string(), false, {});
    CHECK(run.exit_code == 78);
    CHECK_THAT(run.err, Catch::Contains("none.toml: cannot read: No such file or directory"));
  }
}

TEST_CASE("config check accepts the example file", "[cli][config]") {
  auto run = check(std::string(MAILER_SOURCE_DIR) + "/examples/mailerd.toml", false, {});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
}

TEST_CASE("config check with the process environment", "[cli][config]") {
  // The four-argument form mailerctl calls; this process sets no MAILER_* variables.
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  std::ostringstream out;
  std::ostringstream err;
  const int code = mailer::cli::run_config_check("", false, out, err);
  INFO(err.str());
  CHECK(code == 0);
  CHECK(line_of(out.str(), "worker.backoff_max_ms") == "worker.backoff_max_ms 3600000 default");
}

TEST_CASE("config check refuses an ses.endpoint mailerd would refuse", "[cli][config]") {
  for (const char* endpoint : {"http://h:99999", "http://:80", "https://[::1"}) {
    auto run = check("", true, {{"MAILER_SES_ENDPOINT", endpoint}});
    CHECK(run.exit_code == 78);
    auto report = nlohmann::json::parse(run.out);
    CHECK(report["valid"] == false);
    CHECK(report["errors"][0]["key"] == "ses.endpoint");
  }
  auto run = check("", false, {{"MAILER_SES_ENDPOINT", "http://h:99999"}});
  CHECK(run.err.find("ses.endpoint: http://h:99999: port 99999 is out of range 1-65535") != std::string::npos);
}

TEST_CASE("config check warns about a non-https public_url when bulk mail can go out", "[cli][config]") {
  const Env http_bulk = {{"MAILER_SERVER_PUBLIC_URL", "http://mail.example.com"},
                         {"MAILER_UNSUBSCRIBE_SECRET", "0123456789abcdef-unsub"}};
  SECTION("table: a warning on stderr, exit 0") {
    auto run = check("", false, http_bulk);
    CHECK(run.exit_code == 0);
    CHECK(run.err.find("warning: server.public_url: http://mail.example.com: not https") != std::string::npos);
    CHECK(run.err.find("RFC 8058 section 3.1") != std::string::npos);
  }
  SECTION("json: in the warnings list, still valid") {
    auto run = check("", true, http_bulk);
    CHECK(run.exit_code == 0);
    auto report = nlohmann::json::parse(run.out);
    CHECK(report["valid"] == true);
    REQUIRE(report["warnings"].size() == 1);
    CHECK(report["warnings"][0]["key"] == "server.public_url");
  }
  SECTION("https: no warning") {
    auto run = check("", true,
                     {{"MAILER_SERVER_PUBLIC_URL", "HTTPS://mail.example.com"},
                      {"MAILER_UNSUBSCRIBE_SECRET", "0123456789abcdef-unsub"}});
    CHECK(nlohmann::json::parse(run.out)["warnings"].empty());
  }
  SECTION("no unsubscribe secret: no bulk mail, no warning") {
    auto run = check("", false, {{"MAILER_SERVER_PUBLIC_URL", "http://mail.example.com"}});
    CHECK(run.err.empty());
  }
}

TEST_CASE("config check shows the --db override as db.path's source", "[cli][config]") {
  const mailer::EnvLookup env = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "MAILER_DB_PATH") return "/var/lib/env.db";
    if (std::string(name) == "AWS_EC2_METADATA_DISABLED") return "true";
    return std::nullopt;
  };
  std::ostringstream out;
  std::ostringstream err;
  CHECK(mailer::cli::run_config_check("", false, out, err, env, {"MAILER_DB_PATH"}, "/tmp/x.db") == 0);
  CHECK(line_of(out.str(), "db.path") == "db.path \"/tmp/x.db\" option --db");

  std::ostringstream json_out;
  CHECK(mailer::cli::run_config_check("", true, json_out, err, env, {"MAILER_DB_PATH"}, "/tmp/x.db") == 0);
  auto report = nlohmann::json::parse(json_out.str());
  for (const auto& entry : report["entries"]) {
    if (entry["key"] != "db.path") continue;
    CHECK(entry["value"] == "/tmp/x.db");
    CHECK(entry["source"] == "option");
    CHECK(entry["option"] == "--db");
  }

  std::ostringstream plain;
  CHECK(mailer::cli::run_config_check("", false, plain, err, env, {"MAILER_DB_PATH"}) == 0);
  CHECK(line_of(plain.str(), "db.path") == "db.path \"/var/lib/env.db\" env MAILER_DB_PATH");
}

TEST_CASE("config check notes a database file that does not exist yet", "[cli][config]") {
  mailer::test::TempDir dir;
  const auto missing = (dir / "missing.db").string();
  const auto present = (dir / "present.db").string();
  std::ofstream(present) << "";
  const mailer::EnvLookup env = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "AWS_EC2_METADATA_DISABLED") return "true";
    return std::nullopt;
  };
  std::ostringstream out;
  std::ostringstream err;
  CHECK(mailer::cli::run_config_check("", false, out, err, env, {}, missing) == 0);
  CHECK_THAT(out.str(), Catch::Contains("database: " + missing +
                                        " (option --db): does not exist yet; mailerd creates it on start\n"));
  CHECK(line_of(out.str(), "db.path") == "db.path \"" + missing + "\" option --db");

  std::ostringstream json_out;
  CHECK(mailer::cli::run_config_check("", true, json_out, err, env, {}, missing) == 0);
  auto report = nlohmann::json::parse(json_out.str());
  CHECK(report["database"]["path"] == missing);
  CHECK(report["database"]["exists"] == false);

  std::ostringstream present_out;
  CHECK(mailer::cli::run_config_check("", false, present_out, err, env, {}, present) == 0);
  CHECK_THAT(present_out.str(), !Catch::Contains("database: "));
  std::ostringstream present_json;
  CHECK(mailer::cli::run_config_check("", true, present_json, err, env, {}, present) == 0);
  CHECK(nlohmann::json::parse(present_json.str())["database"]["exists"] == true);
}

TEST_CASE("config check shows ses.region taken from the AWS profile", "[cli][config]") {
  mailer::test::TempDir dir;
  const auto config = (dir / "aws-config").string();
  std::ofstream(config) << "[profile eu]\nregion = eu-west-3\n";
  auto run = check("", false, {{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "eu"}});
  REQUIRE(run.exit_code == 0);
  CHECK(line_of(run.out, "ses.region") == "ses.region \"eu-west-3\" env AWS profile [eu]");
  auto json = check("", true, {{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "eu"}});
  auto parsed = nlohmann::json::parse(json.out);
  for (const auto& row : parsed["entries"]) {
    if (row["key"] != "ses.region") continue;
    CHECK(row["source"] == "env");
    CHECK(row["env"] == "AWS profile [eu]");
  }
  std::ofstream(config) << "[profile eu]\nregion = nowhere\n";
  auto bad = check("", false, {{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "eu"}});
  CHECK(bad.exit_code == 78);
  CHECK(bad.err.find("AWS profile: profile [eu]: region 'nowhere': must be an AWS region such as us-east-1") !=
        std::string::npos);
}

TEST_CASE("config check names the credential source and expiry, never the keys", "[cli][config][credentials]") {
  SECTION("explicit keys do not expire") {
    auto run = check("", false, k_secrets);
    CHECK(run.out.find("credentials: config, do not expire\n") != std::string::npos);
    auto report = nlohmann::json::parse(check("", true, k_secrets).out);
    CHECK(report["credentials"] == nlohmann::json({{"found", true}, {"source", "config"}, {"expiration", nullptr}}));
  }
  SECTION("container credentials with their expiry") {
    static mailer::net::CurlGlobal curl;
    mailer::test::FakeContainerServer fake;
    fake.set_raw_answer(200, R"({"AccessKeyId":"AKIDCONTAINER","SecretAccessKey":"container-secret",)"
                             R"("Token":"container-token","Expiration":"2030-05-01T12:00:00Z"})");
    const Env env{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/creds"}};
    auto run = check("", false, env);
    CHECK(run.out.find("credentials: container, expire 2030-05-01T12:00:00.000Z\n") != std::string::npos);
    auto json_run = check("", true, env);
    auto report = nlohmann::json::parse(json_run.out);
    CHECK(report["credentials"]["source"] == "container");
    CHECK(report["credentials"]["expiration"] == "2030-05-01T12:00:00.000Z");
    for (const auto* output : {&run.out, &run.err, &json_run.out}) {
      CHECK(output->find("container-secret") == std::string::npos);
      CHECK(output->find("container-token") == std::string::npos);
    }
  }
  SECTION("none found: why, and still exit 0") {
    auto run = check("", false, {});
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("credentials: none found: no AWS credentials in config, environment or shared file, "
                       "and IMDS is disabled\n") != std::string::npos);
    auto report = nlohmann::json::parse(check("", true, {}).out);
    CHECK(report["credentials"]["found"] == false);
    CHECK(report["credentials"]["reason"].get<std::string>().find("IMDS is disabled") != std::string::npos);
  }
  SECTION("a dead endpoint: an answer within the timeouts") {
    static mailer::net::CurlGlobal curl;
    const auto started = std::chrono::steady_clock::now();
    auto run = check("", false, {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"}});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK(run.out.find("credentials: none found: container credentials: ") != std::string::npos);
  }
  SECTION("a refused endpoint names the variable") {
    auto run = check("", false, {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds"}});
    CHECK(run.out.find("credentials: none found: AWS_CONTAINER_CREDENTIALS_FULL_URI: http to 192.0.2.1 is not allowed") !=
          std::string::npos);
  }
}
