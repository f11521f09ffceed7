#pragma once
// Shell completion and the full help (the manual page's text) of mailerctl,
// both made from the command tree itself so that a new command or option is
// completed and documented without editing a script or a page.
//
// The scripts that `mailerctl completion bash|zsh` prints (and the build
// installs) call back `mailerctl __complete WORD...` on every <Tab>, the
// way Cobra- and clap-based tools do: the last WORD is the one being typed
// (possibly empty), the words before it are the command line so far. That
// call reads no configuration and opens no database.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailer::cli {

struct CtlContext;

/// The hidden first word that asks for completions instead of running a command.
inline constexpr const char* k_complete_command = "__complete";

/// Printed instead of a candidate when the word being typed is a file name
/// (an option's value, or an argument of a command without subcommands): the
/// scripts then hand over to the shell's own file completion.
inline constexpr const char* k_complete_files = ":files";

/// The completions of `words` (the command line after "mailerctl"; the last
/// one is the partial word) against `app`'s command tree: subcommand names,
/// then long options of the command reached and of its parents (global
/// options fall through), each starting with the partial word, in the tree's
/// order; or the single k_complete_files. Hidden commands (no group) are
/// never offered. Empty when nothing matches.
std::vector<std::string> completions(const CLI::App& app, const std::vector<std::string>& words);

/// The completion script for `shell` ("bash" or "zsh"), or an empty string
/// for any other shell.
std::string completion_script(const std::string& shell);

/// The flag that prints full_help() (help2man reads it for the manual page).
inline constexpr const char* k_help_all_flag = "--help-all";

/// `app`'s help followed by the help of every visible command below it,
/// depth first in the tree's order, each with its own usage and options.
std::string full_help(const CLI::App& app);

/// Registers `mailerctl completion bash|zsh` and documents --help-all.
void add_completion_commands(CLI::App& app, CtlContext& ctx);

}  // namespace mailer::cli
