// Templates on top of kainjow mustache 4.1.
//
// kainjow parses in its constructor and reports the first syntax error as a message
// ending in " at <byte offset>"; we turn the offset into line and column. kainjow does
// not expose its parse tree, so a small scanner (scan_tags) that follows kainjow's own
// tokenizing rules finds partials (refused: `{{> name}}` would render a *variable's
// value* as a template, letting recipient data inject template code) and collects the
// variable names. The scanner only runs on text kainjow accepted.
//
// Thread safety: kainjow's render() is not const, but it writes to the template only
// when a lambda or partial fails; our data never holds lambdas and partials are
// refused, so concurrent renders of one CompiledParts only read it.

#include "mailer/render/template.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

// NOTE: GCC 12 at -O2 reports a "potential null pointer dereference" inside
// std::vector::insert as inlined into kainjow's context::push; the pointer comes from
// a vector kainjow never leaves empty there. The warning cannot be silenced around
// the include (it is issued where the code is inlined), so it is off for this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <kainjow/mustache.hpp>

namespace mailer::render {

namespace mustache = kainjow::mustache;

struct CompiledParts {
  mustache::mustache subject;
  std::optional<mustache::mustache> html;
  std::optional<mustache::mustache> text;
  std::vector<TemplateVariable> variables;
  std::size_t html_bytes = 0;  // source sizes, to reserve output space
  std::size_t text_bytes = 0;
};

namespace {

constexpr std::array<std::string_view, 3> k_built_in_names{"batch_id", "email", "unsubscribe_url"};

std::string identity(const std::string& s) { return s; }

std::string trim(std::string_view s) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

/// "line L, column C" of byte `offset` in `text`; C counts UTF-8 characters
/// (continuation bytes 10xxxxxx are skipped), both 1-based.
std::string position_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n') {
      ++line;
      column = 1;
    } else if ((byte & 0xC0) != 0x80) {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

/// kainjow's "Unclosed tag at 17" -> "Unclosed tag at line 2, column 4". A message
/// without a trailing offset (none in 4.1) is passed through unchanged.
std::string locate_kainjow_error(std::string_view text, const std::string& message) {
  constexpr std::string_view k_at = " at ";
  const auto at = message.rfind(k_at);
  if (at == std::string::npos) return message;
  const char* first = message.data() + at + k_at.size();
  const char* last = message.data() + message.size();
  std::size_t offset = 0;
  const auto [end, ec] = std::from_chars(first, last, offset);
  if (ec != std::errc{} || end != last) return message;
  return message.substr(0, at) + " at " + position_of(text, offset);
}

struct Tag {
  std::size_t position;  // byte offset of the opening delimiter
  char sigil;            // '#', '^', '/', '>', '&', '!', or 0 for a plain variable
  std::string name;
};

/// kainjow's set-delimiter rule: "=<begin> <end>=", neither containing '=' or spaces.
bool parse_delimiters(const std::string& contents, std::string& begin, std::string& end) {
  if (contents.size() < 5 || contents.back() != '=') return false;
  const std::string inner = trim(std::string_view(contents).substr(1, contents.size() - 2));
  const auto space = inner.find(' ');
  if (space == std::string::npos) return false;
  const auto next = inner.find_first_not_of(' ', space + 1);
  if (next == std::string::npos) return false;
  auto valid = [](std::string_view d) {
    return std::none_of(d.begin(), d.end(), [](char c) {
      return c == '=' || std::isspace(static_cast<unsigned char>(c)) != 0;
    });
  };
  std::string new_begin = inner.substr(0, space);
  std::string new_end = inner.substr(next);
  if (!valid(new_begin) || !valid(new_end)) return false;
  begin = std::move(new_begin);
  end = std::move(new_end);
  return true;
}

/// Every tag of `text` in order, tokenized as kainjow 4.1's parser does (delimiter
/// changes, `{{{x}}}` only under the default delimiters). Stops at the first
/// malformed tag, which kainjow has already reported.
std::vector<Tag> scan_tags(const std::string& text) {
  std::vector<Tag> tags;
  std::string begin = "{{";
  std::string end = "}}";
  std::size_t pos = 0;
  while ((pos = text.find(begin, pos)) != std::string::npos) {
    const bool braces = begin == "{{" && end == "}}";
    std::size_t contents = pos + begin.size();
    const bool triple = braces && contents < text.size() && text[contents] == '{';
    if (triple) ++contents;
    const std::string& closer = triple ? std::string("}}}") : end;
    const auto close = text.find(closer, contents);
    if (close == std::string::npos) break;
    std::string body = trim(std::string_view(text).substr(contents, close - contents));
    const std::size_t tag_position = pos;
    pos = close + closer.size();
    if (!body.empty() && body.front() == '=') {  // kainjow checks this even after {{{
      if (!parse_delimiters(body, begin, end)) break;
      continue;
    }
    char sigil = triple ? '&' : 0;
    if (!triple && !body.empty() && std::string_view("#^/>&!").find(body.front()) != std::string_view::npos) {
      sigil = body.front();
      body = trim(std::string_view(body).substr(1));
    }
    tags.push_back(Tag{tag_position, sigil, std::move(body)});
  }
  return tags;
}

/// kainjow closes the innermost section at any `{{/name}}` and then blames the opening
/// tag ("Unclosed section \"a\" at 0"); when an end tag names another section, the
/// end tag is the mistake, so point at it instead.
std::optional<std::string> find_mismatched_section_end(const std::string& text) {
  std::vector<const Tag*> open;
  const auto tags = scan_tags(text);
  for (const Tag& tag : tags) {
    if (tag.sigil == '#' || tag.sigil == '^') open.push_back(&tag);
    if (tag.sigil != '/' || open.empty()) continue;
    if (open.back()->name != tag.name) {
      return "Section \"" + open.back()->name + "\" is closed by \"" + tag.name + "\" at " +
             position_of(text, tag.position);
    }
    open.pop_back();
  }
  return std::nullopt;
}

/// Part `field`: the kainjow template, or the FieldErrors that stop it.
std::optional<mustache::mustache> compile_part(const std::string& field, const std::string& text,
                                               std::vector<FieldError>& errors) {
  mustache::mustache compiled(text);
  if (!compiled.is_valid()) {
    auto mismatch = find_mismatched_section_end(text);
    errors.push_back({field, mismatch ? *mismatch : locate_kainjow_error(text, compiled.error_message())});
    return std::nullopt;
  }
  bool ok = true;
  for (const Tag& tag : scan_tags(text)) {
    if (tag.sigil == '>') {
      errors.push_back({field, "partials are not supported at " + position_of(text, tag.position)});
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  if (field != "html") compiled.set_custom_escape(identity);
  return compiled;
}

void collect_variables(const std::string& text, std::set<std::string>& names) {
  for (const Tag& tag : scan_tags(text)) {
    if (tag.sigil == '!' || tag.sigil == '/' || tag.sigil == '>') continue;
    std::string first = tag.name.substr(0, tag.name.find('.'));
    if (!first.empty()) names.insert(std::move(first));
  }
}

std::vector<TemplateVariable> variables_of(const TemplateParts& parts) {
  std::set<std::string> names;
  collect_variables(parts.subject, names);
  if (parts.html) collect_variables(*parts.html, names);
  if (parts.text) collect_variables(*parts.text, names);
  std::vector<TemplateVariable> variables;
  for (const auto& name : names) variables.push_back({name, is_built_in_variable(name)});
  return variables;
}

void check_subject_is_one_line(const std::string& subject, std::vector<FieldError>& errors) {
  const auto line_break = subject.find_first_of("\r\n");
  if (line_break != std::string::npos) {
    errors.push_back({"subject", "line breaks are not allowed at " + position_of(subject, line_break)});
  }
}

/// An empty optional part is treated as absent.
std::optional<std::string> present(const std::optional<std::string>& part) {
  if (part && !part->empty()) return part;
  return std::nullopt;
}

/// JSON -> kainjow data, following the mapping documented at render().
mustache::data to_data(const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::object: {
      mustache::data object(mustache::data::type::object);
      for (const auto& [key, item] : value.items()) object[key] = to_data(item);
      return object;
    }
    case Type::array: {
      mustache::data list(mustache::data::type::list);
      // NOTE: kainjow's push_back copies its argument deeply and offers no move;
      // `list` is ours and not const, so moving into its vector is sound and keeps
      // render time linear in the data size instead of copying every element twice.
      auto& items = const_cast<mustache::list&>(list.list_value());
      items.reserve(value.size());
      for (const auto& item : value) items.push_back(to_data(item));
      return list;
    }
    case Type::string: {
      const auto& s = value.get_ref<const std::string&>();
      // NOTE: "" is falsy as in mustache.js, so {{^name}}fallback{{/name}} works for
      // an empty name; a false renders as nothing, exactly like "".
      return s.empty() ? mustache::data(false) : mustache::data(s);
    }
    case Type::boolean: return mustache::data(value.get<bool>());
    case Type::number_integer:
    case Type::number_unsigned:
    case Type::number_float: return mustache::data(value.dump());
    default: return mustache::data(false);  // null, binary, discarded
  }
}

/// True when `value` nests deeper than `limit` levels; recursion stops at the limit.
bool nests_deeper_than(const nlohmann::json& value, int limit) {
  if (!value.is_structured()) return false;
  if (limit == 0) return true;
  return std::any_of(value.begin(), value.end(),
                     [limit](const nlohmann::json& item) { return nests_deeper_than(item, limit - 1); });
}

const std::string k_too_deep = "variables are nested deeper than " + std::to_string(k_max_variable_depth) + " levels";

std::string render_part(mustache::mustache& part, const mustache::data& data, std::size_t size_hint) {
  std::string out;
  out.reserve(size_hint + size_hint / 4);
  part.render(data, [&out](const std::string& chunk) { out += chunk; });
  return out;
}

}  // namespace

bool is_built_in_variable(std::string_view name) {
  return std::find(k_built_in_names.begin(), k_built_in_names.end(), name) != k_built_in_names.end();
}

const std::vector<TemplateVariable>& CompiledTemplate::variables() const { return m_parts->variables; }
bool CompiledTemplate::has_html() const { return m_parts->html.has_value(); }
bool CompiledTemplate::has_text() const { return m_parts->text.has_value(); }

Result<CompiledTemplate> compile_template(const TemplateParts& parts) {
  std::vector<FieldError> errors;
  const auto html = present(parts.html);
  const auto text = present(parts.text);
  if (parts.subject.empty()) errors.push_back({"subject", "must not be empty"});
  check_subject_is_one_line(parts.subject, errors);
  if (!html && !text) errors.push_back({"html", "at least one of html and text is required"});

  auto subject = compile_part("subject", parts.subject, errors);
  std::optional<mustache::mustache> html_part;
  std::optional<mustache::mustache> text_part;
  if (html) html_part = compile_part("html", *html, errors);
  if (text) text_part = compile_part("text", *text, errors);
  if (!errors.empty()) return Error{ErrorCode::invalid_input, "template is invalid", std::move(errors)};

  TemplateParts kept{parts.subject, html, text};
  auto compiled = std::make_shared<CompiledParts>(
      CompiledParts{std::move(*subject), std::move(html_part), std::move(text_part), variables_of(kept),
                    html ? html->size() : 0, text ? text->size() : 0});
  return CompiledTemplate(std::move(compiled));
}

Status check_variables(const nlohmann::json& variables) {
  if (!variables.is_null() && !variables.is_object()) {
    return make_error(ErrorCode::invalid_input, "variables must be a JSON object");
  }
  if (nests_deeper_than(variables, k_max_variable_depth)) return make_error(ErrorCode::invalid_input, k_too_deep);
  return {};
}

Result<RenderedMessage> render(const CompiledTemplate& compiled, const nlohmann::json& variables) {
  CompiledParts& parts = *compiled.m_parts;
  if (nests_deeper_than(variables, k_max_variable_depth)) {
    return Error{ErrorCode::invalid_input, "variables are invalid", {{"variables", k_too_deep}}};
  }
  const mustache::data data = to_data(variables.is_object() ? variables : nlohmann::json::object());
  RenderedMessage message;
  message.subject = render_part(parts.subject, data, 128);
  if (message.subject.find_first_of("\r\n") != std::string::npos) {
    return Error{ErrorCode::invalid_input, "rendered subject is invalid",
                 {{"subject", "rendered subject contains a line break"}}};
  }
  if (parts.html) message.html = render_part(*parts.html, data, parts.html_bytes);
  if (parts.text) message.text = render_part(*parts.text, data, parts.text_bytes);
  return message;
}

nlohmann::json merge_variables(const nlohmann::json& batch, const nlohmann::json& recipient,
                               const BuiltIns& built_ins) {
  nlohmann::json merged = batch.is_object() ? batch : nlohmann::json::object();
  if (recipient.is_object()) merged.merge_patch(recipient);
  merged["email"] = built_ins.email;
  merged["unsubscribe_url"] = built_ins.unsubscribe_url;
  merged["batch_id"] = built_ins.batch_id;
  return merged;
}

}  // namespace mailer::render
