#pragma once
// Named profiles of the shared config and credentials files, and the
// credentials a profile leads to, following the AWS SDKs and botocore:
//   https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
//   https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html
// Files: AWS_CONFIG_FILE or ~/.aws/config (sections "[default]" and
// "[profile NAME]") and AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
// (sections "[NAME]"); a missing file counts as empty, a file over
// k_max_profile_file_bytes is an error. For one profile the credentials file's
// keys win over the config file's. The profile is AWS_PROFILE or "default".
//
// Inside a profile, the first of these that is set decides (botocore's order):
//   role_arn + source_profile | credential_source  -> STS AssumeRole
//   role_arn + web_identity_token_file              -> STS AssumeRoleWithWebIdentity
//   aws_access_key_id + aws_secret_access_key       -> static keys
//   credential_process                              -> a command's JSON
// A profile with none of them (only a region, say) yields nothing, and the
// chain goes on to the next source.

#include <chrono>
#include <cstddef>
#include <map>
#include <stop_token>
#include <optional>
#include <string>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"

namespace mailer::aws {

/// Bytes a config or credentials file may have.
inline constexpr std::size_t k_max_profile_file_bytes = 1024 * 1024;
/// Role hops from the selected profile to the profile with the base credentials.
inline constexpr int k_max_role_chain = 5;

/// The text of `path`, at most `max_bytes`; nullopt when the file does not
/// exist. Errors: too_large "<path> is larger than N bytes"; invalid_input
/// "<path>: cannot read (<reason>)".
Result<std::optional<std::string>> read_bounded_file(const std::string& path, std::size_t max_bytes);

/// Both files, parsed (parse_ini) and each section name normalised to a profile
/// name: config "[profile x]" -> "x", "[default]" -> "default"; other config
/// sections (sso-session, services) are dropped.
struct ProfileFiles {
  std::string config_path;       // "" when neither AWS_CONFIG_FILE nor HOME is set
  std::string credentials_path;  // likewise
  IniSections config;            // profile name -> keys
  IniSections credentials;       // profile name -> keys
};

/// Errors: as read_bounded_file and parse_ini, the detail starting with the
/// file's path ("/home/u/.aws/config: line 3: ...").
Result<ProfileFiles> load_profile_files(const EnvGetter& env);

/// The keys of profile `name`, config first, credentials file keys over them;
/// nullopt when neither file has it.
std::optional<std::map<std::string, std::string>> merged_profile(const ProfileFiles& files, const std::string& name);

/// AWS_PROFILE when set and non-empty, else "default".
std::string selected_profile_name(const EnvGetter& env);

/// What the selected profile says about where to call AWS; empty when unset.
struct ProfileSettings {
  std::string region;        // "region", e.g. "eu-west-1"
  std::string endpoint_url;  // "endpoint_url", e.g. "http://127.0.0.1:4566"
};

/// The selected profile's region and endpoint_url. Errors as load_profile_files;
/// an unknown profile gives empty settings (the credential chain reports it).
Result<ProfileSettings> profile_settings(const EnvGetter& env);

/// Fills ses.region from the selected profile's `region` and ses.endpoint from
/// its `endpoint_url` (the latter not when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
/// each only when `loaded` has it at its default, as the SDKs rank a profile
/// below the environment. The entry then shows source env, env_name
/// "AWS profile [NAME]". https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html
/// Errors: as load_profile_files; invalid_input "profile [p]: region 'x': must
/// be an AWS region such as us-east-1".
Status apply_profile_settings(LoadedConfig& loaded, const EnvGetter& env);

/// The region STS is called in: AWS_REGION, AWS_DEFAULT_REGION, the selected
/// profile's region, else `fallback` (ses.region).
std::string sts_region(const EnvGetter& env, const ProfileSettings& settings, const std::string& fallback);

/// What the profile and web identity providers need besides the environment.
struct ProfileChainOptions {
  EnvGetter env = system_env;
  std::string fallback_region = "us-east-1";  // ses.region
  std::chrono::milliseconds sts_timeout{10000};
  std::chrono::milliseconds imds_timeout{1000};  // credential_source = Ec2InstanceMetadata
  std::chrono::milliseconds process_timeout{30000};
  /// A stop request gives up a fetch in progress (credential_process killed,
  /// STS/IMDS/container request aborted) with "cancelled".
  std::stop_token stop;
};

/// Web identity from the environment: AWS_WEB_IDENTITY_TOKEN_FILE and
/// AWS_ROLE_ARN (session name AWS_ROLE_SESSION_NAME or "mailerd-<unix time>").
/// The token file is read on every call, as it rotates. nullopt when neither
/// variable is set. Source "web-identity". Errors: invalid_input when only one is
/// set, the session name is not 2-64 of [A-Za-z0-9+=,.@_-], or the endpoint is
/// bad; unauthorized "web identity: token file <path>: cannot read|empty|..."; the
/// STS errors of assume_role_with_web_identity.
Result<std::optional<Credentials>> credentials_from_web_identity_env(const ProfileChainOptions& options);

/// The selected profile's credentials as the header describes. nullopt when the
/// profile has no credential keys, or when it is "default" (not chosen by
/// AWS_PROFILE) and neither file has it. Sources: "assume-role:<profile>",
/// "web-identity:<profile>", "file:<profile>", "process:<profile>". Errors:
/// invalid_input for a missing or half-configured profile ("profile [p]:
/// role_arn needs source_profile, credential_source or web_identity_token_file",
/// "... source_profile [q] does not exist", "... source_profile chain is longer
/// than 5 roles", "... source_profile [p] loops back to [q]", "... needs
/// aws_access_key_id and aws_secret_access_key", "... credential_source X: must be
/// Environment, Ec2InstanceMetadata or EcsContainer"); the errors of STS, IMDS
/// and credential_process otherwise.
Result<std::optional<Credentials>> credentials_from_profile(const ProfileChainOptions& options);

}  // namespace mailer::aws
