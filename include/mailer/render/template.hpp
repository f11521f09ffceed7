#pragma once
// Mustache templates for messages: compile once (validation, variable list), render
// many (one call per recipient in the job engine). Pure code, no I/O.
//
// Dialect: kainjow mustache 4.1 (the mustache spec minus partials and lambdas).
// Subject and text parts are rendered without HTML escaping; the HTML part escapes
// `{{x}}` (& < > " ') and leaves `{{{x}}}` and `{{&x}}` raw (SPEC.md §4 Rendering).

#include <cstddef>
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

/// Bounds on what a template and its rendering may be, checked by compile_template and
/// render. Every part comes from outside, and kainjow recurses over sections.
///
/// Sections may nest this deep; counted before kainjow parses, without recursion.
inline constexpr int k_max_section_depth = 32;
/// Bytes of the subject, as a template and rendered: "Subject: " plus this fits the
/// 998-character line of RFC 5322 §2.1.1.
inline constexpr std::size_t k_max_subject_bytes = 989;
/// Bytes of the html and of the text template (1 MiB each; SES's own stored templates
/// stop at 500 KB: docs.aws.amazon.com/ses/latest/dg/quotas.html).
inline constexpr std::size_t k_max_body_part_bytes = std::size_t{1} << 20;
/// The largest message SES v2 sends: 40 MB after base64 encoding, read as 40 MiB so
/// that only messages SES must refuse are refused
/// (docs.aws.amazon.com/ses/latest/dg/quotas.html).
inline constexpr std::size_t k_max_message_bytes = std::size_t{40} << 20;

/// What `message` takes after base64 encoding (RFC 2045 §6.8, 76-character lines
/// ended by CRLF) of its subject, html and text: the part of the SES size that
/// mailerd controls. Headers and MIME boundaries add a few hundred bytes more.
std::size_t encoded_message_bytes(const RenderedMessage& message);

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
  friend Result<RenderedMessage> render(const CompiledTemplate& compiled, const nlohmann::json& variables);
  friend Result<std::string> render_subject(const CompiledTemplate& compiled, const nlohmann::json& variables);
  friend nlohmann::json subject_variables_of(const CompiledTemplate& compiled, const nlohmann::json& variables);
  friend class SubjectRenderer;
  explicit CompiledTemplate(std::shared_ptr<CompiledParts> parts) : m_parts(std::move(parts)) {}
  std::shared_ptr<CompiledParts> m_parts;
};

/// Parses every part of `parts`. On failure returns `invalid_input` with detail
/// "template is invalid" and one FieldError per problem, all parts checked at once:
///   {"subject", "must not be empty"}
///   {"subject", "line breaks are not allowed at line 1, column C"}
///   {"subject", "control character U+0009 is not allowed at line 1, column C"} (C0
///       controls, tab included, DEL and U+0080-U+009F: a subject is one printable line)
///   {"html", "at least one of html and text is required"}
///   {"<part>", "<kainjow message> at line L, column C"}, e.g.
///       "Unclosed tag at line 3, column 5", "Unclosed section \"items\" at line 1, column 1",
///       "Unopened section \"x\" at line 2, column 9", "Invalid set delimiter tag at ..."
///   {"<part>", "Section \"a\" is closed by \"b\" at line L, column C"} (position of the end tag)
///   {"<part>", "partials are not supported at line L, column C"}
///   {"<part>", "is N bytes; at most M are allowed"} (k_max_subject_bytes, k_max_body_part_bytes)
///   {"<part>", "sections are nested deeper than 32 levels at line L, column C"} (the
///       first section opened at depth 33)
/// L and C are 1-based; C counts UTF-8 characters, not bytes. A part over its size or
/// depth bound is refused before kainjow parses it: time and memory stay linear in it.
Result<CompiledTemplate> compile_template(const TemplateParts& parts);

/// How deep variables may nest (an object or array inside another counts one level).
/// Rendering recurses over the value, so a bound keeps hostile input off the stack.
inline constexpr int k_max_variable_depth = 32;

/// Bytes of one `variables` object as JSON (batch, recipient or message): 1 MiB.
/// Rendering copies the variables for each message, and per-recipient values are
/// stored once per message.
inline constexpr std::size_t k_max_variables_bytes = std::size_t{1} << 20;

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
/// {"subject", "rendered subject contains control character U+001B"} for the other
/// characters compile_template refuses in a subject,
/// and FieldError {"variables", "variables are nested deeper than 32 levels"}; also
/// {"subject", "rendered subject is N bytes; at most 989 fit a header line"} and, when
/// encoded_message_bytes would pass k_max_message_bytes,
/// {"variables", "the rendered message would be N bytes after base64 encoding; SES
/// accepts at most 41943040"} (N "more than 41943040 bytes" when the render stopped
/// early: sections repeated by list items are charged as they are entered, so a
/// render that cannot fit stops before it allocates the oversized output).
/// Each error's `detail` is its field message, so the reason reaches a failed
/// message's last_error.
Result<RenderedMessage> render(const CompiledTemplate& compiled, const nlohmann::json& variables);

/// The subject alone, exactly as render() makes and checks it (same errors), for
/// checks at accept: cheap, since a subject template is at most 989 bytes.
Result<std::string> render_subject(const CompiledTemplate& compiled, const nlohmann::json& variables);

/// The members of the object `variables` whose names the subject uses (see
/// TemplateVariable): rendering the subject with these gives what it gives with
/// all of them, without copying the rest ({} when `variables` is not an object).
nlohmann::json subject_variables_of(const CompiledTemplate& compiled, const nlohmann::json& variables);

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
nlohmann::json merge_variables(const nlohmann::json& batch, const nlohmann::json& recipient, const BuiltIns& built_ins);

/// SES's placeholder for its own unsubscribe link (list management), as a body carries it.
/// https://docs.aws.amazon.com/ses/latest/dg/sending-email-subscription-management.html
inline constexpr std::string_view k_ses_unsubscribe_placeholder = "{{amazonSESUnsubscribeUrl}}";

/// For a batch under SES list management, where SES and not mailerd writes the
/// unsubscribe link: sets `amazonSESUnsubscribeUrl` and the `unsubscribe_url`
/// built-in of merged `variables` to k_ses_unsubscribe_placeholder, so either
/// renders as SES's placeholder (braces are not HTML-escaped) and SES replaces it.
void use_ses_unsubscribe_placeholder(nlohmann::json& variables);

/// The subject of one batch rendered for each of its recipients: render(email,
/// variables) gives exactly what render_subject(compiled, merge_variables(
/// batch_variables, variables, {email, unsubscribe_url, batch_id})) gives,
/// errors included, but keeps the batch's share of the render data from one
/// recipient to the next instead of merging and converting it again (the
/// accept-time subject check of a 100,000-recipient batch). A recipient value
/// that is an object or null (which merge into or remove a batch value) takes
/// the general path. `batch_variables` must have passed check_variables.
/// Not thread-safe: it holds the render data between calls.
class SubjectRenderer {
 public:
  SubjectRenderer(const CompiledTemplate& compiled, const nlohmann::json& batch_variables, BuiltIns built_ins);
  ~SubjectRenderer();
  SubjectRenderer(const SubjectRenderer&) = delete;
  SubjectRenderer& operator=(const SubjectRenderer&) = delete;

  Result<std::string> render(const std::string& email, const nlohmann::json& variables);

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace mailer::render
