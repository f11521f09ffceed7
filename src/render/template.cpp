// Templates on top of kainjow mustache 4.1.
//
// kainjow parses in its constructor and reports the first syntax error as a message
// ending in " at <byte offset>"; we turn the offset into line and column. kainjow does
// not expose its parse tree, so a small scanner (scan_tags) that follows kainjow's own
// tokenizing rules finds partials (refused: `{{> name}}` would render a *variable's
// value* as a template, letting recipient data inject template code) and collects the
// variable names. Apart from the nesting check below, the scanner only runs on text
// kainjow accepted.
//
// Bounds, because every byte of a template comes from outside:
// - kainjow parses and renders sections recursively, and its parse keeps a copy of the
//   text per open section: 20,000 nested sections (240 KB) took 9.4 s and 2.95 GB. So
//   the scanner counts section depth *before* kainjow sees the text, iteratively, and
//   refuses more than k_max_section_depth levels; the parts' sizes are bounded first.
// - A section repeats its body once per list item, so a small template and small
//   variables can still ask for gigabytes. kainjow gathers a line of output before
//   handing it on, so counting what it writes is too late; BudgetContext instead
//   charges each section entry (its body's size) and each variable value looked up
//   against what SES could still send, and stops the render once that upper bound of
//   the output passes it.
//
// Thread safety: kainjow's render() is not const, but it writes to the template only
// when a lambda or partial fails; our data never holds lambdas and partials are
// refused, so concurrent renders of one CompiledParts only read it.

#include "mailer/render/template.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

// NOTE: GCC 12 at -O2 reports a "potential null pointer dereference" inside
// std::vector::insert as inlined into kainjow's context::push; the pointer comes from
// a vector kainjow never leaves empty there. The warning cannot be silenced around
// the include (it is issued where the code is inlined), so it is off for this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <kainjow/mustache.hpp>

#include "mailer/core/text.hpp"

namespace mailer::render {

namespace mustache = kainjow::mustache;

/// One compiled part and what BudgetContext charges for it.
struct CompiledPart {
  mustache::mustache compiled;
  std::size_t source_bytes = 0;  // to reserve output space
  /// Section name -> the largest body (bytes between its tags, nested ones included)
  /// of the sections with that name: what one entry into it can add to the output.
  std::map<std::string, std::size_t, std::less<>> section_bytes;
};

struct CompiledParts {
  CompiledPart subject;
  std::optional<CompiledPart> html;
  std::optional<CompiledPart> text;
  std::vector<TemplateVariable> variables;
  std::vector<std::string> subject_names;  // the names the subject uses, as in variables
};

namespace {

constexpr std::array<std::string_view, 3> k_built_in_names{"batch_id", "email", "unsubscribe_url"};

std::string identity(const std::string& s) { return s; }

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
  std::size_t end;       // byte offset just past the closing delimiter
  char sigil;            // '#', '^', '/', '>', '&', '!', or 0 for a plain variable
  std::string name;
};

/// kainjow's set-delimiter rule: "=<begin> <end>=", neither containing '=' or spaces.
bool parse_delimiters(const std::string& contents, std::string& begin, std::string& end) {
  if (contents.size() < 5 || contents.back() != '=') return false;
  const std::string inner(text::trim(std::string_view(contents).substr(1, contents.size() - 2)));
  const auto space = inner.find(' ');
  if (space == std::string::npos) return false;
  const auto next = inner.find_first_not_of(' ', space + 1);
  if (next == std::string::npos) return false;
  auto valid = [](std::string_view d) {
    return std::none_of(d.begin(), d.end(),
                        [](char c) { return c == '=' || std::isspace(static_cast<unsigned char>(c)) != 0; });
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
    std::string body(text::trim(std::string_view(text).substr(contents, close - contents)));
    const std::size_t tag_position = pos;
    pos = close + closer.size();
    if (!body.empty() && body.front() == '=') {  // kainjow checks this even after {{{
      if (!parse_delimiters(body, begin, end)) break;
      continue;
    }
    char sigil = triple ? '&' : 0;
    if (!triple && !body.empty() && std::string_view("#^/>&!").find(body.front()) != std::string_view::npos) {
      sigil = body.front();
      body = std::string(text::trim(std::string_view(body).substr(1)));
    }
    tags.push_back(Tag{tag_position, pos, sigil, std::move(body)});
  }
  return tags;
}

bool opens_section(const Tag& tag) { return tag.sigil == '#' || tag.sigil == '^'; }

/// kainjow closes the innermost section at any `{{/name}}` and then blames the opening
/// tag ("Unclosed section \"a\" at 0"); when an end tag names another section, the
/// end tag is the mistake, so point at it instead.
std::optional<std::string> find_mismatched_section_end(const std::string& text) {
  std::vector<const Tag*> open;
  const auto tags = scan_tags(text);
  for (const Tag& tag : tags) {
    if (opens_section(tag)) open.push_back(&tag);
    if (tag.sigil != '/' || open.empty()) continue;
    if (open.back()->name != tag.name) {
      return "Section \"" + open.back()->name + "\" is closed by \"" + tag.name + "\" at " +
             position_of(text, tag.position);
    }
    open.pop_back();
  }
  return std::nullopt;
}

/// The first section opened deeper than k_max_section_depth, as a message with its
/// position. Counts without recursion and before kainjow parses (see the top).
std::optional<std::string> find_too_deep_section(const std::string& text) {
  std::size_t depth = 0;
  for (const Tag& tag : scan_tags(text)) {
    if (opens_section(tag) && ++depth > static_cast<std::size_t>(k_max_section_depth)) {
      return "sections are nested deeper than " + std::to_string(k_max_section_depth) + " levels at " +
             position_of(text, tag.position);
    }
    if (tag.sigil == '/' && depth > 0) --depth;
  }
  return std::nullopt;
}

std::optional<std::string> size_problem(const std::string& field, const std::string& text) {
  const std::size_t limit = field == "subject" ? k_max_subject_bytes : k_max_body_part_bytes;
  if (text.size() <= limit) return std::nullopt;
  return "is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(limit) + " are allowed";
}

/// See CompiledPart::section_bytes. Runs on text kainjow accepted, so tags balance.
std::map<std::string, std::size_t, std::less<>> measure_sections(const std::string& text) {
  std::map<std::string, std::size_t, std::less<>> sizes;
  const auto tags = scan_tags(text);
  std::vector<const Tag*> open;
  for (const Tag& tag : tags) {
    if (opens_section(tag)) open.push_back(&tag);
    if (tag.sigil != '/' || open.empty()) continue;
    auto& size = sizes[open.back()->name];
    size = std::max(size, tag.position - open.back()->end);
    open.pop_back();
  }
  return sizes;
}

/// Part `field`: the kainjow template, or the FieldErrors that stop it.
std::optional<CompiledPart> compile_part(const std::string& field, const std::string& text, FieldErrors& errors) {
  auto problem = size_problem(field, text);
  if (!problem) problem = find_too_deep_section(text);
  if (problem) {
    errors.push_back({field, *problem});
    return std::nullopt;
  }
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
  return CompiledPart{std::move(compiled), text.size(), measure_sections(text)};
}

void collect_variables(const std::string& text, std::set<std::string>& names) {
  for (const Tag& tag : scan_tags(text)) {
    if (tag.sigil == '!' || tag.sigil == '/' || tag.sigil == '>') continue;
    std::string first = tag.name.substr(0, tag.name.find('.'));
    if (!first.empty()) names.insert(std::move(first));
  }
}

std::vector<std::string> names_of(const std::string& text) {
  std::set<std::string> names;
  collect_variables(text, names);
  return {names.begin(), names.end()};
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

/// The first character that cannot be in a subject: the header is one line
/// (RFC 5322 §2.2: no CR or LF) of printable text, so C0 controls (tab too: a
/// subject is not folded, and a tab renders unpredictably), DEL and the C1 controls
/// U+0080-U+009F (UTF-8 0xC2 0x80-0x9F) are refused; the text is valid UTF-8 (JSON).
struct SubjectFlaw {
  std::size_t offset;
  std::string what;  // "a line break" or "control character U+0001"
};

std::optional<SubjectFlaw> find_subject_flaw(std::string_view subject) {
  for (std::size_t i = 0; i < subject.size(); ++i) {
    const auto c = static_cast<unsigned char>(subject[i]);
    unsigned code = c;
    if (c == 0xC2 && i + 1 < subject.size()) code = static_cast<unsigned char>(subject[i + 1]);
    if (c == '\r' || c == '\n') return SubjectFlaw{i, "a line break"};
    if (code < 0x20 || code == 0x7F || (c == 0xC2 && code >= 0x80 && code <= 0x9F)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04X", code);
      return SubjectFlaw{i, std::string("control character U+") + hex};
    }
  }
  return std::nullopt;
}

void check_subject_characters(const std::string& subject, FieldErrors& errors) {
  auto flaw = find_subject_flaw(subject);
  if (!flaw) return;
  const bool line_break = flaw->what == "a line break";
  errors.push_back({"subject", (line_break ? std::string("line breaks are") : flaw->what + " is") + " not allowed at " +
                                   position_of(subject, flaw->offset)});
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

/// Thrown from inside kainjow's render to stop it; caught in render_part. kainjow keeps
/// its render state in locals (context pushes are RAII), so unwinding leaves the
/// template as it was.
struct OverBudget {};

/// kainjow's lookup context, charging what each lookup can add to the output against
/// `remaining` (see the top of the file). A section entry is a push of the value just
/// looked up (or of an item of that list; later items follow the pop of the one
/// before), so the charge is that section's body size; a value not traced to a
/// section is charged the largest body, which keeps the sum an upper bound.
class BudgetContext final : public mustache::context<std::string> {
 public:
  BudgetContext(const mustache::data* data, const CompiledPart& part, std::size_t& remaining)
      : mustache::context<std::string>(data), m_part(part), m_remaining(remaining) {
    for (const auto& [name, bytes] : part.section_bytes) m_largest_section = std::max(m_largest_section, bytes);
  }

  void push(const mustache::data* data) override {
    Frame frame{m_looked_up, m_looked_up_bytes};
    if (!entered(data, frame.source)) {
      frame = entered(data, m_popped.source) ? m_popped : Frame{nullptr, m_largest_section};
    }
    charge(frame.bytes);
    m_frames.push_back(frame);
    mustache::context<std::string>::push(data);
  }

  void pop() override {
    if (!m_frames.empty()) {
      m_popped = m_frames.back();
      m_frames.pop_back();
    }
    mustache::context<std::string>::pop();
  }

  const mustache::data* get(const std::string& name) const override {
    const mustache::data* found = mustache::context<std::string>::get(name);
    if (found == nullptr) return found;
    if (found->is_string()) charge(found->string_value().size());
    if (auto section = m_part.section_bytes.find(name); section != m_part.section_bytes.end()) {
      m_looked_up = found;
      m_looked_up_bytes = section->second;
    }
    return found;
  }

 private:
  /// A section entered: the value it was entered from and its body size.
  struct Frame {
    const mustache::data* source;
    std::size_t bytes;
  };

  /// True when pushing `data` enters the section whose value is `source`.
  static bool entered(const mustache::data* data, const mustache::data* source) {
    if (source == nullptr) return false;
    if (data == source) return true;
    if (!source->is_non_empty_list()) return false;
    const auto& items = source->list_value();
    std::less<const mustache::data*> before;
    return !before(data, items.data()) && before(data, items.data() + items.size());
  }

  void charge(std::size_t bytes) const {
    if (bytes > m_remaining) throw OverBudget{};
    m_remaining -= bytes;
  }

  const CompiledPart& m_part;
  std::size_t& m_remaining;
  std::size_t m_largest_section = 0;
  std::vector<Frame> m_frames;
  Frame m_popped{nullptr, 0};  // the item before the next one of the same list
  mutable const mustache::data* m_looked_up = nullptr;
  mutable std::size_t m_looked_up_bytes = 0;
};

/// kainjow's render(context, stream) wants a stream; this one appends to a string.
struct StringSink {
  std::string& out;
  StringSink& operator<<(const std::string& chunk) {
    out += chunk;
    return *this;
  }
};

/// `part` rendered with `data`, or nullopt when it would pass `remaining` bytes
/// (shared by the parts of one message; what this part may write is taken off it).
std::optional<std::string> render_part(CompiledPart& part, const mustache::data& data, std::size_t& remaining) {
  if (part.source_bytes > remaining) return std::nullopt;
  remaining -= part.source_bytes;  // the text outside sections, rendered at most once
  std::string out;
  out.reserve(part.source_bytes + part.source_bytes / 4);
  StringSink sink{out};
  try {
    BudgetContext context(&data, part, remaining);
    part.compiled.render(context, sink);
  } catch (const OverBudget&) {
    return std::nullopt;
  }
  return out;
}

/// RFC 2045 §6.8: 4 characters per 3 bytes, in lines of at most 76 plus CRLF.
std::size_t base64_encoded_bytes(std::size_t bytes) {
  const std::size_t characters = (bytes + 2) / 3 * 4;
  return characters + (characters + 75) / 76 * 2;
}

/// `encoded_bytes`: the size measured, or nullopt when the render stopped early
/// (over budget) and only "more than the limit" is known.
Error too_large_message(std::optional<std::size_t> encoded_bytes) {
  const std::string size = encoded_bytes ? std::to_string(*encoded_bytes) + " bytes"
                                         : "more than " + std::to_string(k_max_message_bytes) + " bytes";
  std::string reason = "the rendered message would be " + size + " after base64 encoding; SES accepts at most " +
                       std::to_string(k_max_message_bytes);
  return Error{ErrorCode::invalid_input, reason, {{"variables", reason}}};
}

/// Error detail and field message of a refused rendered subject: the reason itself,
/// so that a message that fails at send carries it into its last_error.
Error invalid_subject(std::string reason) { return Error{ErrorCode::invalid_input, reason, {{"subject", reason}}}; }

/// The subject rendered with `data` from the shared `remaining` budget, and held to
/// the subject rules (find_subject_flaw, k_max_subject_bytes).
Result<std::string> render_subject_part(CompiledPart& part, const mustache::data& data, std::size_t& remaining) {
  auto subject = render_part(part, data, remaining);
  if (!subject) return too_large_message(std::nullopt);
  if (auto flaw = find_subject_flaw(*subject)) return invalid_subject("rendered subject contains " + flaw->what);
  if (subject->size() > k_max_subject_bytes) {
    return invalid_subject("rendered subject is " + std::to_string(subject->size()) + " bytes; at most " +
                           std::to_string(k_max_subject_bytes) + " fit a header line");
  }
  return std::move(*subject);
}

}  // namespace

bool is_built_in_variable(std::string_view name) {
  return std::find(k_built_in_names.begin(), k_built_in_names.end(), name) != k_built_in_names.end();
}

const std::vector<TemplateVariable>& CompiledTemplate::variables() const { return m_parts->variables; }
bool CompiledTemplate::has_html() const { return m_parts->html.has_value(); }
bool CompiledTemplate::has_text() const { return m_parts->text.has_value(); }

Result<CompiledTemplate> compile_template(const TemplateParts& parts) {
  FieldErrors errors;
  const auto html = present(parts.html);
  const auto text = present(parts.text);
  if (parts.subject.empty()) errors.push_back({"subject", "must not be empty"});
  check_subject_characters(parts.subject, errors);
  if (!html && !text) errors.push_back({"html", "at least one of html and text is required"});

  auto subject = compile_part("subject", parts.subject, errors);
  std::optional<CompiledPart> html_part;
  std::optional<CompiledPart> text_part;
  if (html) html_part = compile_part("html", *html, errors);
  if (text) text_part = compile_part("text", *text, errors);
  if (!errors.empty()) return Error{ErrorCode::invalid_input, "template is invalid", std::move(errors)};

  TemplateParts kept{parts.subject, html, text};
  auto compiled = std::make_shared<CompiledParts>(CompiledParts{
      std::move(*subject), std::move(html_part), std::move(text_part), variables_of(kept), names_of(parts.subject)});
  return CompiledTemplate(std::move(compiled));
}

Status check_variables(const nlohmann::json& variables) {
  if (!variables.is_null() && !variables.is_object()) {
    return make_error(ErrorCode::invalid_input, "variables must be a JSON object");
  }
  if (nests_deeper_than(variables, k_max_variable_depth)) return make_error(ErrorCode::invalid_input, k_too_deep);
  return {};
}

std::size_t encoded_message_bytes(const RenderedMessage& message) {
  return base64_encoded_bytes(message.subject.size()) + base64_encoded_bytes(message.html.value_or("").size()) +
         base64_encoded_bytes(message.text.value_or("").size());
}

Result<RenderedMessage> render(const CompiledTemplate& compiled, const nlohmann::json& variables) {
  CompiledParts& parts = *compiled.m_parts;
  if (nests_deeper_than(variables, k_max_variable_depth)) {
    return Error{ErrorCode::invalid_input, k_too_deep, {{"variables", k_too_deep}}};
  }
  const mustache::data data = to_data(variables.is_object() ? variables : nlohmann::json::object());
  // What SES could accept before encoding, as the budget of every part together.
  std::size_t remaining = k_max_message_bytes / 4 * 3;
  RenderedMessage message;
  auto subject = render_subject_part(parts.subject, data, remaining);
  if (!subject) return std::move(subject).error();
  message.subject = std::move(*subject);
  for (auto [part, out] : {std::pair{&parts.html, &message.html}, std::pair{&parts.text, &message.text}}) {
    if (!*part) continue;
    *out = render_part(**part, data, remaining);
    if (!*out) return too_large_message(std::nullopt);
  }
  if (const auto bytes = encoded_message_bytes(message); bytes > k_max_message_bytes) return too_large_message(bytes);
  return message;
}

Result<std::string> render_subject(const CompiledTemplate& compiled, const nlohmann::json& variables) {
  if (nests_deeper_than(variables, k_max_variable_depth)) {
    return Error{ErrorCode::invalid_input, k_too_deep, {{"variables", k_too_deep}}};
  }
  const mustache::data data = to_data(variables.is_object() ? variables : nlohmann::json::object());
  std::size_t remaining = k_max_message_bytes / 4 * 3;
  return render_subject_part(compiled.m_parts->subject, data, remaining);
}

nlohmann::json subject_variables_of(const CompiledTemplate& compiled, const nlohmann::json& variables) {
  nlohmann::json used = nlohmann::json::object();
  if (!variables.is_object()) return used;
  for (const auto& name : compiled.m_parts->subject_names) {
    if (auto found = variables.find(name); found != variables.end()) used[name] = *found;
  }
  return used;
}

struct SubjectRenderer::State {
  CompiledTemplate compiled;
  nlohmann::json batch_used;       // the batch variables the subject uses
  BuiltIns built_ins;              // email set per recipient
  std::vector<std::string> names;  // the subject's names that are not built-ins
  mustache::data base;             // batch_used and the built-ins, as render data
  mustache::data current;          // base with the last recipient's values
  std::vector<char> overridden;    // per name: current holds a recipient's value
};

SubjectRenderer::SubjectRenderer(const CompiledTemplate& compiled, const nlohmann::json& batch_variables,
                                 BuiltIns built_ins)
    : m_state(std::make_unique<State>(State{compiled,
                                            subject_variables_of(compiled, batch_variables),
                                            std::move(built_ins),
                                            {},
                                            mustache::data(false),
                                            mustache::data(false)})) {
  State& s = *m_state;
  for (const auto& name : compiled.m_parts->subject_names)
    if (!is_built_in_variable(name)) s.names.push_back(name);
  s.base = to_data(merge_variables(s.batch_used, nlohmann::json::object(), s.built_ins));
  s.current = mustache::data(s.base);
  s.overridden.assign(s.names.size(), 0);
}

SubjectRenderer::~SubjectRenderer() = default;

Result<std::string> SubjectRenderer::render(const std::string& email, const nlohmann::json& variables) {
  State& s = *m_state;
  if (variables.is_object()) {
    for (const auto& name : s.names) {
      auto found = variables.find(name);
      if (found == variables.end()) continue;
      // Merge Patch merges an object into the batch's value and a null removes
      // it: those take the general path rather than being copied here.
      if (found->is_object() || found->is_null()) {
        BuiltIns built_ins = s.built_ins;
        built_ins.email = email;
        return render_subject(s.compiled,
                              merge_variables(s.batch_used, subject_variables_of(s.compiled, variables), built_ins));
      }
      // The merged object nests one level deeper than its members.
      if (nests_deeper_than(*found, k_max_variable_depth - 1)) {
        return Error{ErrorCode::invalid_input, k_too_deep, {{"variables", k_too_deep}}};
      }
    }
  }
  auto value_of = [&](const std::string& name) -> const nlohmann::json* {
    if (!variables.is_object()) return nullptr;
    auto found = variables.find(name);
    return found == variables.end() ? nullptr : &*found;
  };
  // A name the last recipient set and the batch lacks must be missing again:
  // kainjow data cannot remove a member, so start again from the batch's.
  for (std::size_t i = 0; i < s.names.size(); ++i) {
    if (s.overridden[i] && value_of(s.names[i]) == nullptr && s.base.get(s.names[i]) == nullptr) {
      s.current = mustache::data(s.base);
      std::fill(s.overridden.begin(), s.overridden.end(), 0);
      break;
    }
  }
  for (std::size_t i = 0; i < s.names.size(); ++i) {
    if (const nlohmann::json* value = value_of(s.names[i])) {
      s.current.set(s.names[i], to_data(*value));
      s.overridden[i] = 1;
    } else if (s.overridden[i]) {
      s.current.set(s.names[i], *s.base.get(s.names[i]));  // the batch has it (see above)
      s.overridden[i] = 0;
    }
  }
  s.current.set("email", email.empty() ? mustache::data(false) : mustache::data(email));  // as to_data
  std::size_t remaining = k_max_message_bytes / 4 * 3;
  return render_subject_part(s.compiled.m_parts->subject, s.current, remaining);
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

void use_ses_unsubscribe_placeholder(nlohmann::json& variables) {
  const std::string placeholder(k_ses_unsubscribe_placeholder);
  variables["amazonSESUnsubscribeUrl"] = placeholder;
  variables["unsubscribe_url"] = placeholder;
}

}  // namespace mailer::render
