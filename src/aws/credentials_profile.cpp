// Profiles and the role chains they describe. A profile with role_arn and
// source_profile is resolved by first resolving the source profile (which may
// itself be a role: each hop is an AssumeRole call signed by the previous
// hop's credentials), so the chain is walked with the names seen so far to
// catch loops and bound its length.
#include "mailer/aws/credentials_profile.hpp"

#include "mailer/aws/credentials_container.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <system_error>
#include <vector>

#include "mailer/aws/credentials_process.hpp"
#include "mailer/aws/credentials_sts.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::aws {

namespace {

using Keys = std::map<std::string, std::string>;

constexpr std::size_t k_max_token_file_bytes = 64 * 1024;

std::string value_of(const Keys& keys, const std::string& name) {
  auto it = keys.find(name);
  return it == keys.end() ? std::string() : it->second;
}

std::string env_value(const EnvGetter& env, const char* name) {
  auto value = env(name);
  return value ? std::string(text::trim(*value)) : std::string();
}

// "~/.aws/<file>" unless `variable` names another path; "" without HOME.
std::string file_path(const EnvGetter& env, const char* variable, const char* file) {
  std::string path = env_value(env, variable);
  if (!path.empty()) return path;
  std::string home = env_value(env, "HOME");
  return home.empty() ? std::string() : home + "/.aws/" + file;
}

Result<IniSections> read_ini(const std::string& path) {
  if (path.empty()) return IniSections{};
  auto text = read_bounded_file(path, k_max_profile_file_bytes);
  if (!text) return std::move(text).error();
  if (!*text) return IniSections{};
  auto sections = parse_ini(**text);
  if (!sections) return make_error(ErrorCode::invalid_input, path + ": " + sections.error().detail);
  return sections;
}

// Config sections are "[default]" and "[profile NAME]"; the others (sso-session,
// services) hold no credentials.
IniSections config_profiles(IniSections sections) {
  IniSections profiles;
  for (auto& [name, keys] : sections) {
    if (name == "default") profiles["default"].merge(keys);
    if (name.starts_with("profile ")) profiles[std::string(text::trim(name.substr(8)))] = std::move(keys);
  }
  return profiles;
}

std::string default_session_name() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return "mailerd-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

Error profile_error(const std::string& profile, const std::string& detail) {
  return make_error(ErrorCode::invalid_input, "profile [" + profile + "]: " + detail);
}

// An STS error of profile `profile`'s role, its code kept (a refusal stays
// unauthorized, throttling stays transient).
Result<Credentials> in_profile(const std::string& profile, Result<Credentials> result) {
  if (result || profile.empty()) return result;
  Error error = std::move(result).error();
  error.detail = "profile [" + profile + "]: " + error.detail;
  return error;
}

// `profile`: the profile the role is configured in, named in STS errors; empty
// for the environment's web identity.
Result<Credentials> web_identity(const StsOptions& sts, const std::string& token_file, const std::string& role_arn,
                                 std::string session_name, std::string source, const std::string& profile = {}) {
  if (session_name.empty()) session_name = default_session_name();
  if (!is_role_session_name(session_name)) {
    return make_error(ErrorCode::invalid_input, "web identity: role session name " + text::quote_outside(session_name) +
                                                    ": must be 2-64 of A-Z a-z 0-9 + = , . @ _ -");
  }
  auto token = read_bounded_file(token_file, k_max_token_file_bytes);
  std::string where = "web identity: token file " + token_file;
  if (!token) return make_error(ErrorCode::unauthorized, "web identity: token file " + token.error().detail);
  if (!*token) return make_error(ErrorCode::unauthorized, where + ": does not exist");
  WebIdentityRequest request{role_arn, session_name, std::string(text::trim(**token))};
  crypto::wipe(**token);
  if (request.token.empty()) return make_error(ErrorCode::unauthorized, where + ": empty");
  auto result = in_profile(profile, assume_role_with_web_identity(sts, request, std::move(source)));
  crypto::wipe(request.token);
  return result;
}

// Walks one profile; `chain` holds the profiles that led here.
class ProfileResolver {
 public:
  ProfileResolver(const ProfileChainOptions& options, const ProfileFiles& files, const ProfileSettings& settings)
      : m_options(options), m_files(files) {
    m_sts.region = sts_region(options.env, settings, options.fallback_region);
    m_sts.endpoint = resolve_sts_endpoint(options.env, m_sts.region, settings.endpoint_url);
    m_sts.timeout = options.sts_timeout;
    m_sts.stop = options.stop;
  }

  Result<std::optional<Credentials>> resolve(const std::string& name, std::vector<std::string>& chain) {
    auto keys = merged_profile(m_files, name);
    if (!keys) return std::optional<Credentials>();
    chain.push_back(name);
    const std::string role_arn = value_of(*keys, "role_arn");
    const std::string token_file = value_of(*keys, "web_identity_token_file");
    if (!role_arn.empty() && (keys->contains("source_profile") || keys->contains("credential_source"))) {
      return wrap(assume(name, *keys, chain));
    }
    if (!role_arn.empty() && !token_file.empty()) {
      const std::string session_name = value_of(*keys, "role_session_name");
      return wrap(web_identity(m_sts, token_file, role_arn, session_name, "web-identity:" + name, name));
    }
    if (!role_arn.empty()) {
      return profile_error(name, "role_arn needs source_profile, credential_source or web_identity_token_file");
    }
    if (!token_file.empty()) return profile_error(name, "web_identity_token_file needs role_arn");
    if (auto keys_found = static_keys(name, *keys); !keys_found || *keys_found) return keys_found;
    if (auto command = value_of(*keys, "credential_process"); !command.empty()) {
      return wrap(credentials_from_process(command, name,
                                           {.timeout = m_options.process_timeout, .stop = m_options.stop}));
    }
    return std::optional<Credentials>();
  }

 private:
  static Result<std::optional<Credentials>> wrap(Result<Credentials> result) {
    if (!result) return std::move(result).error();
    return std::optional<Credentials>(std::move(*result));
  }

  static Result<std::optional<Credentials>> static_keys(const std::string& name, const Keys& keys) {
    std::string id = value_of(keys, "aws_access_key_id");
    std::string secret = value_of(keys, "aws_secret_access_key");
    if (id.empty() && secret.empty()) return std::optional<Credentials>();
    if (id.empty() || secret.empty()) {
      return profile_error(name, "needs aws_access_key_id and aws_secret_access_key");
    }
    return std::optional<Credentials>(
        Credentials{id, secret, value_of(keys, "aws_session_token"), std::nullopt, "file:" + name});
  }

  Result<Credentials> assume(const std::string& name, const Keys& keys, std::vector<std::string>& chain) {
    if (keys.contains("source_profile") && keys.contains("credential_source")) {
      return profile_error(name, "source_profile and credential_source exclude each other");
    }
    auto request = role_request(name, keys);
    if (!request) return std::move(request).error();
    auto caller = keys.contains("source_profile") ? from_source_profile(name, keys, chain)
                                                  : from_credential_source(name, value_of(keys, "credential_source"));
    if (!caller) return std::move(caller).error();
    auto assumed = in_profile(name, assume_role(m_sts, *request, *caller, "assume-role:" + name));
    crypto::wipe(caller->secret_access_key);
    return assumed;
  }

  Result<AssumeRoleRequest> role_request(const std::string& name, const Keys& keys) const {
    AssumeRoleRequest request{value_of(keys, "role_arn"), value_of(keys, "role_session_name"),
                              value_of(keys, "external_id"), std::nullopt};
    if (request.session_name.empty()) request.session_name = default_session_name();
    if (!is_role_session_name(request.session_name)) {
      return profile_error(name, "role_session_name: must be 2-64 of A-Z a-z 0-9 + = , . @ _ -");
    }
    if (std::string duration = value_of(keys, "duration_seconds"); !duration.empty()) {
      int seconds = 0;
      auto [end, problem] = std::from_chars(duration.data(), duration.data() + duration.size(), seconds);
      if (problem != std::errc() || end != duration.data() + duration.size() || seconds < 900 || seconds > 43200) {
        return profile_error(name, "duration_seconds " + text::quote_outside(duration) + ": must be 900-43200");
      }
      request.duration_seconds = seconds;
    }
    return request;
  }

  Result<Credentials> from_source_profile(const std::string& name, const Keys& keys, std::vector<std::string>& chain) {
    const std::string source = value_of(keys, "source_profile");
    // botocore: a profile naming itself as source uses its own static keys.
    if (source == name) {
      auto own = static_keys(name, keys);
      if (!own) return std::move(own).error();
      if (!*own) return profile_error(name, "source_profile names itself but the profile has no static keys");
      return std::move(**own);
    }
    if (std::find(chain.begin(), chain.end(), source) != chain.end()) {
      return profile_error(name, "source_profile [" + source + "] loops back to an earlier profile");
    }
    if (static_cast<int>(chain.size()) > k_max_role_chain) {
      return profile_error(name, "source_profile chain is longer than " + std::to_string(k_max_role_chain) + " roles");
    }
    if (!merged_profile(m_files, source)) return profile_error(name, "source_profile [" + source + "] does not exist");
    auto resolved = resolve(source, chain);
    if (!resolved) return std::move(resolved).error();
    if (!*resolved) return profile_error(name, "source_profile [" + source + "] has no credentials");
    return std::move(**resolved);
  }

  Result<Credentials> from_credential_source(const std::string& name, const std::string& source) const {
    if (source == "Environment") {
      auto from_env = credentials_from_env(m_options.env);
      if (!from_env) return std::move(from_env).error();
      if (!*from_env) return profile_error(name, "credential_source Environment: AWS_ACCESS_KEY_ID is not set");
      return std::move(**from_env);
    }
    if (source == "Ec2InstanceMetadata") {
      ImdsOptions imds;
      if (auto endpoint = env_value(m_options.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT"); !endpoint.empty()) {
        imds.endpoint = endpoint;
      }
      imds.timeout = m_options.imds_timeout;
      imds.stop = m_options.stop;
      return credentials_from_imds(imds);
    }
    if (source == "EcsContainer") {
      ContainerOptions container;
      container.stop = m_options.stop;
      auto from_container = credentials_from_container(m_options.env, container);
      if (!from_container) return std::move(from_container).error();
      if (!*from_container) {
        return profile_error(name, "credential_source EcsContainer: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
                                   "AWS_CONTAINER_CREDENTIALS_FULL_URI is not set");
      }
      return std::move(**from_container);
    }
    return profile_error(name, "credential_source " + text::quote_outside(source) +
                                   ": must be Environment, Ec2InstanceMetadata or EcsContainer");
  }

  const ProfileChainOptions& m_options;
  const ProfileFiles& m_files;
  StsOptions m_sts;
};

}  // namespace

Result<std::optional<std::string>> read_bounded_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return make_error(ErrorCode::invalid_input, path + ": cannot read (" + std::strerror(errno) + ")");
  }
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return make_error(ErrorCode::invalid_input, path + ": cannot read (" + std::strerror(errno) + ")");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    return make_error(ErrorCode::too_large, path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return std::optional<std::string>(std::move(text));
}

Result<ProfileFiles> load_profile_files(const EnvGetter& env) {
  ProfileFiles files;
  files.config_path = file_path(env, "AWS_CONFIG_FILE", "config");
  files.credentials_path = file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  auto config = read_ini(files.config_path);
  if (!config) return std::move(config).error();
  files.config = config_profiles(std::move(*config));
  auto credentials = read_ini(files.credentials_path);
  if (!credentials) return std::move(credentials).error();
  files.credentials = std::move(*credentials);
  return files;
}

std::optional<Keys> merged_profile(const ProfileFiles& files, const std::string& name) {
  auto config = files.config.find(name);
  auto credentials = files.credentials.find(name);
  if (config == files.config.end() && credentials == files.credentials.end()) return std::nullopt;
  Keys keys;
  if (credentials != files.credentials.end()) keys = credentials->second;
  if (config != files.config.end()) keys.insert(config->second.begin(), config->second.end());  // no overwrite
  return keys;
}

std::string selected_profile_name(const EnvGetter& env) {
  std::string name = env_value(env, "AWS_PROFILE");
  return name.empty() ? "default" : name;
}

Result<ProfileSettings> profile_settings(const EnvGetter& env) {
  auto files = load_profile_files(env);
  if (!files) return std::move(files).error();
  auto keys = merged_profile(*files, selected_profile_name(env));
  if (!keys) return ProfileSettings{};
  return ProfileSettings{value_of(*keys, "region"), value_of(*keys, "endpoint_url")};
}

namespace {

bool is_region(std::string_view region) {
  static const std::regex k_region(R"(^[a-z]{2}(-[a-z]+)+-[0-9]+$)");
  return std::regex_match(region.begin(), region.end(), k_region);
}

// Sets `key` to `value` when it is still at its default.
void set_default(LoadedConfig& loaded, std::string_view key, const std::string& value, const std::string& profile,
                 std::string SesConfig::*field) {
  auto entry =
      std::find_if(loaded.entries.begin(), loaded.entries.end(), [&](const ConfigEntry& e) { return e.key == key; });
  if (value.empty() || entry == loaded.entries.end() || entry->source != ConfigSource::default_value) return;
  loaded.config.ses.*field = value;
  entry->value = entry->value_json = dump_json(nlohmann::json(value));
  // NOTE: shown as an environment source, since the environment (AWS_PROFILE,
  // AWS_CONFIG_FILE) chose the profile; "AWS profile [NAME]" says which.
  entry->source = ConfigSource::env;
  entry->env_name = "AWS profile [" + profile + "]";
}

}  // namespace

Status apply_profile_settings(LoadedConfig& loaded, const EnvGetter& env) {
  auto files = load_profile_files(env);
  if (!files) return std::move(files).error();
  std::string name = selected_profile_name(env);
  auto keys = merged_profile(*files, name);
  if (!keys) return {};
  std::string region = value_of(*keys, "region");
  if (!region.empty() && !is_region(region)) {
    return profile_error(name, "region " + text::quote_outside(region) + ": must be an AWS region such as us-east-1");
  }
  set_default(loaded, "ses.region", region, name, &SesConfig::region);
  auto ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!(ignore && text::ascii_lower(text::trim(*ignore)) == "true")) {
    set_default(loaded, "ses.endpoint", value_of(*keys, "endpoint_url"), name, &SesConfig::endpoint);
  }
  return {};
}

std::string sts_region(const EnvGetter& env, const ProfileSettings& settings, const std::string& fallback) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto value = env_value(env, name); !value.empty()) return value;
  }
  return settings.region.empty() ? fallback : settings.region;
}

Result<std::optional<Credentials>> credentials_from_web_identity_env(const ProfileChainOptions& options) {
  std::string token_file = env_value(options.env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  std::string role_arn = env_value(options.env, "AWS_ROLE_ARN");
  if (token_file.empty() && role_arn.empty()) return std::optional<Credentials>();
  if (token_file.empty() || role_arn.empty()) {
    return make_error(ErrorCode::invalid_input,
                      "environment: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together");
  }
  auto settings = profile_settings(options.env);
  if (!settings) return std::move(settings).error();
  StsOptions sts;
  sts.region = sts_region(options.env, *settings, options.fallback_region);
  sts.endpoint = resolve_sts_endpoint(options.env, sts.region, settings->endpoint_url);
  sts.timeout = options.sts_timeout;
  sts.stop = options.stop;
  auto result =
      web_identity(sts, token_file, role_arn, env_value(options.env, "AWS_ROLE_SESSION_NAME"), "web-identity");
  if (!result) return std::move(result).error();
  return std::optional<Credentials>(std::move(*result));
}

Result<std::optional<Credentials>> credentials_from_profile(const ProfileChainOptions& options) {
  auto files = load_profile_files(options.env);
  if (!files) return std::move(files).error();
  std::string name = selected_profile_name(options.env);
  auto keys = merged_profile(*files, name);
  if (!keys) {
    if (name == "default") return std::optional<Credentials>();
    return make_error(ErrorCode::invalid_input, "AWS_PROFILE: no profile [" + name + "] in " + files->config_path +
                                                    " or " + files->credentials_path);
  }
  ProfileSettings settings{value_of(*keys, "region"), value_of(*keys, "endpoint_url")};
  ProfileResolver resolver(options, *files, settings);
  std::vector<std::string> chain;
  return resolver.resolve(name, chain);
}

}  // namespace mailer::aws
