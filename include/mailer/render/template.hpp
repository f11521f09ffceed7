#pragma once
// Mustache templates for messages: compile once (validation, variable list), render
// many (one call per recipient in the job engine). Pure code, no I/O.
//
// Dialect: kainjow mustache 4.1 (the mustache spec minus partials and lambdas).
// Subject and text parts are rendered without HTML escaping; the HTML part escapes
// `{{x}}` (& < > " ') and leaves `{{{x}}}` and `{{&x}}` raw (SPEC.md §4 Rendering).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"

namespace mailer::render {

/// The three mustache sources of a template as the API receives them. An empty
/// `html` or `text` counts as absent.
struct TemplateParts {
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

/// One variable name a template uses: the first segment of a variable or section
/// name (`{{shop.name}}` -> "shop"), anywhere in any part, sections included.
/// `built_in` marks the names the sender fills in itself (see BuiltIns). Names used
/// inside a section are listed too, though they may be fields of the section's items
/// (`{{#items}}{{title}}{{/items}}` lists "items" and "title"): mustache looks them up
/// in the item first and then outside, so a template cannot tell which is meant.
/// `{{.}}` is not a name.
struct TemplateVariable {
  std::string name;
  bool built_in = false;
  friend bool operator==(const TemplateVariable&, const TemplateVariable&) = default;
};

/// True for "email", "unsubscribe_url" and "batch_id".
bool is_built_in_variable(std::string_view name);

/// What the sender hands to SES. `html`/`text` are set when the template has them.
struct RenderedMessage {
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

struct CompiledParts;  // kainjow objects, kept out of this header

/// A validated template, ready to render. Cheap to copy (shared, immutable); safe to
/// render from many threads at once.
class CompiledTemplate {
 public:
  /// Sorted by name, unique, built-ins included and marked.
  const std::vector<TemplateVariable>& variables() const;
  bool has_html() const;
  bool has_text() const;

 private:
  friend Result<CompiledTemplate> compile_template(const TemplateParts& parts);
  friend Result<RenderedMessage> render(const CompiledTemplate& compiled,
                                        const nlohmann::json& variables);
  explicit CompiledTemplate(std::shared_ptr<CompiledParts> parts) : m_parts(std::move(parts)) {}
  std::shared_ptr<CompiledParts> m_parts;
};

/// Parses every part of `parts`. On failure returns `invalid_input` with detail
/// "template is invalid" and one FieldError per problem, all parts checked at once:
///   {"subject", "must not be empty"}
///   {"subject", "line breaks are not allowed at line 1, column C"}
///   {"html", "at least one of html and text is required"}
///   {"<part>", "<kainjow message> at line L, column C"}, e.g.
///       "Unclosed tag at line 3, column 5", "Unclosed section \"items\" at line 1, column 1",
///       "Unopened section \"x\" at line 2, column 9", "Invalid set delimiter tag at ..."
///   {"<part>", "Section \"a\" is closed by \"b\" at line L, column C"} (position of the end tag)
///   {"<part>", "partials are not supported at line L, column C"}
/// L and C are 1-based; C counts UTF-8 characters, not bytes.
Result<CompiledTemplate> compile_template(const TemplateParts& parts);

/// How deep variables may nest (an object or array inside another counts one level).
/// Rendering recurses over the value, so a bound keeps hostile input off the stack.
inline constexpr int k_max_variable_depth = 32;

/// Checks a request's `variables` value before it is stored: null (none) or a JSON
/// object nested at most k_max_variable_depth levels. Errors (`invalid_input`, detail):
/// "variables must be a JSON object", "variables are nested deeper than 32 levels".
Status check_variables(const nlohmann::json& variables);

/// Renders `compiled` with `variables` (a JSON object; anything else renders as if
/// empty; build it with merge_variables). Value mapping: strings as they are, numbers
/// in their JSON spelling ("19.99", "3"), arrays iterate sections, objects give dotted
/// names and section contexts. Falsy in sections: false, null, "" and []. A missing
/// variable renders as nothing; `true`/`false`/null render as nothing too.
/// Fails with `invalid_input`, FieldError {"subject", "rendered subject contains a line
/// break"} when a variable put CR or LF into the subject (a header must be one line),
/// and FieldError {"variables", "variables are nested deeper than 32 levels"}.
Result<RenderedMessage> render(const CompiledTemplate& compiled, const nlohmann::json& variables);

/// Values the sender sets itself; these names are reserved and always win.
/// Empty strings for what does not apply (transactional mail has no unsubscribe URL
/// and no batch), which sections treat as false: `{{#unsubscribe_url}}...{{/unsubscribe_url}}`.
struct BuiltIns {
  std::string email;            // normalized recipient address
  std::string unsubscribe_url;  // unsubscribe_url(public_url, token), bulk only
  std::string batch_id;         // "bat_...", bulk only
};

/// The variables one recipient's message renders with: `batch` merged with
/// `recipient` as an RFC 7396 JSON Merge Patch (recipient wins; objects merge key by
/// key; a recipient null removes a batch value), then the three built-ins set last.
/// A non-object `batch` or `recipient` counts as {}. Both should have passed
/// check_variables (the merge recurses over nested objects).
nlohmann::json merge_variables(const nlohmann::json& batch, const nlohmann::json& recipient,
                               const BuiltIns& built_ins);

}  // namespace mailer::render
