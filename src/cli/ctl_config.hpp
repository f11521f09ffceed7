#pragma once
// `mailerctl config check [--config FILE] [--json]` (SPEC §2, §8): loads the
// configuration exactly as mailerd would and prints every key's effective value
// and where it came from, secrets masked (ccache --show-config).

#include <iosfwd>
#include <string>
#include <vector>

#include "mailer/core/config.hpp"

namespace mailer::cli {

/// Checks `config_path` (empty: defaults and environment only) with the process
/// environment. Valid: prints one line per key to `out` ("key  value  source",
/// source "default", "file" or "env NAME"; secrets "********", empty "(unset)"),
/// or with `json` an object {"valid":true,"config_file":...,"entries":[{"key",
/// "value","source","env"}],"warnings":[{"key","message"}]}, and returns 0.
/// Then it looks for AWS credentials as mailerd would (bounded by the sources'
/// timeouts) and prints "credentials: SOURCE, expire TIME|do not expire" or
/// "credentials: none found: REASON" (JSON: "credentials":{"found":true,
/// "source","expiration" (RFC 3339 or null)} or {"found":false,"reason"}),
/// never a key or token; finding none leaves the exit code at 0.
/// config check never opens db.path; when that file does not exist it prints
/// "database: PATH (SOURCE): does not exist yet; mailerd creates it on start"
/// before the credentials line (JSON, always: "database":{"path","exists"},
/// "exists" null plus "error" when it cannot tell); exit code still 0.
/// Warnings (config_warnings) go to `err` as "warning: key: message" lines
/// in the table form; they never change the exit code. Invalid: prints every problem to
/// `err` (and with `json` {"valid":false,"errors":[{"key","message"}]} to `out`)
/// and returns k_config_exit_code (78). A non-empty `db_override` (mailerctl's
/// --db) replaces db.path last, shown with source "option --db" (JSON:
/// "source":"option","option":"--db").
int run_config_check(const std::string& config_path, bool json, std::ostream& out, std::ostream& err,
                     const std::string& db_override = {});

/// The same with an injected environment (tests); `env_names` are checked for
/// unknown MAILER_* variables.
int run_config_check(const std::string& config_path, bool json, std::ostream& out, std::ostream& err,
                     const EnvLookup& env, const std::vector<std::string>& env_names,
                     const std::string& db_override = {});

}  // namespace mailer::cli
