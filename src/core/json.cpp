#include "mailer/core/json.hpp"

#include "mailer/core/json_stream.hpp"

#include <vector>

#include <fmt/format.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/text.hpp"

namespace mailer {
namespace {

using nlohmann::json;

constexpr std::size_t k_max_path_chars = 200;
constexpr std::size_t k_max_field_segments = 6;

// One step of a path: a member name or an array index.
struct Segment {
  std::string text;  // "name" or "[3]"
  bool index = false;
};

// A SAX handler that builds the document like nlohmann's own DOM parser, but
// refuses to open a container past the depth limit. Returning false stops the
// parser at once, so the rest of a hostile body is never read. With a
// `stream_list`, each element of that top-level array member goes to `take`
// once complete (parse_json_streaming).
class BoundedBuilder {
 public:
  explicit BoundedBuilder(int max_depth, std::string_view stream_list = {}, const TakeElement* take = nullptr)
      : m_max_depth(max_depth), m_stream_list(stream_list), m_take(take) {}

  bool null() { return add(json(nullptr)); }
  bool boolean(bool value) { return add(json(value)); }
  bool number_integer(json::number_integer_t value) { return add(json(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return add(json(value)); }
  bool number_float(json::number_float_t value, const json::string_t&) { return add(json(value)); }
  bool string(json::string_t& value) { return add(json(std::move(value))); }
  bool binary(json::binary_t& value) { return add(json::binary(std::move(value))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  // A member named twice is refused, not resolved: parsers disagree on which
  // value wins (first, last, error), so a body checked by one reader could mean
  // something else to the next (RFC 8259 §4, RFC 7493 §2.3).
  bool key(json::string_t& name) {
    Frame& top = m_stack.back();
    top.key = std::move(name);
    if (top.container->contains(top.key)) {
      m_duplicate_at = path();
      return false;
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception&) {
    m_error_position = position;
    return false;
  }

  json& root() { return m_root; }
  bool too_deep() const { return !m_too_deep_at.empty() || m_too_deep_at_top; }
  const std::vector<Segment>& too_deep_at() const { return m_too_deep_at; }
  // The path of the member named twice (its second occurrence), empty when none.
  const std::vector<Segment>& duplicate_at() const { return m_duplicate_at; }
  std::size_t error_position() const { return m_error_position; }

 private:
  struct Frame {
    json* container;        // NOTE: stays valid: only the innermost container grows
    std::string key;        // the member being read, for objects
    bool streamed = false;  // the stream_list array: elements go to m_take
    std::size_t taken = 0;  // elements already taken (path indexes count them)
  };

  // Where the next value goes: the root, the current member, or a new element.
  json* slot() {
    if (m_stack.empty()) return &m_root;
    Frame& top = m_stack.back();
    if (top.container->is_object()) return &(*top.container)[top.key];
    top.container->push_back(nullptr);
    return &top.container->back();
  }

  bool add(json&& value) {
    *slot() = std::move(value);
    hand_over();
    return true;
  }

  // An element of the streamed list is complete: hand it over.
  void hand_over() {
    if (m_stack.empty() || !m_stack.back().streamed) return;
    Frame& list = m_stack.back();
    (*m_take)(list.taken++, std::move(list.container->back()));
    list.container->get_ref<json::array_t&>().clear();
  }

  bool open(json&& container) {
    json* at = slot();
    if (static_cast<int>(m_stack.size()) >= m_max_depth) {
      m_too_deep_at = path();
      m_too_deep_at_top = m_stack.empty();
      return false;
    }
    const bool streamed = m_take != nullptr && container.is_array() && m_stack.size() == 1 &&
                          m_stack.back().container->is_object() && m_stack.back().key == m_stream_list;
    *at = std::move(container);
    m_stack.push_back({at, {}, streamed, 0});
    return true;
  }

  bool close() {
    m_stack.pop_back();
    hand_over();
    return true;
  }

  // The path to the innermost slot; every frame's element already exists.
  std::vector<Segment> path() const {
    std::vector<Segment> out;
    out.reserve(m_stack.size());
    for (const auto& frame : m_stack) {
      if (frame.container->is_object()) out.push_back({frame.key, false});
      else out.push_back({fmt::format("[{}]", frame.taken + frame.container->size() - 1), true});
    }
    return out;
  }

  int m_max_depth;
  std::string_view m_stream_list;
  const TakeElement* m_take;
  json m_root;
  std::vector<Frame> m_stack;
  std::vector<Segment> m_too_deep_at;
  std::vector<Segment> m_duplicate_at;
  bool m_too_deep_at_top = false;
  std::size_t m_error_position = 0;
};

void append(std::string& out, const Segment& segment) {
  if (!segment.index && !out.empty()) out += '.';
  out += segment.text;
}

std::string path_text(const std::vector<Segment>& segments) {
  std::string out;
  for (const auto& segment : segments) {
    append(out, segment);
    if (out.size() > k_max_path_chars) {
      out.resize(k_max_path_chars);
      return out + "...";
    }
  }
  return out;
}

// The request-level field a deep path belongs to: the first member, then
// through array elements to a member of each ("recipients[0].variables"); the
// indexes of a bare nested array are left out ("Subject", not "Subject[0][0]").
std::string field_of(const std::vector<Segment>& segments, std::string_view what) {
  if (segments.empty()) return std::string(what);
  std::string out;
  append(out, segments[0]);
  std::size_t i = 1;
  while (i < segments.size() && i < k_max_field_segments) {
    std::size_t next_member = i;
    while (next_member < segments.size() && segments[next_member].index) ++next_member;
    if (next_member == i || next_member == segments.size()) break;
    for (; i <= next_member; ++i) append(out, segments[i]);
  }
  return out.size() > k_max_path_chars ? out.substr(0, k_max_path_chars) + "..." : out;
}

Error too_deep(const BoundedBuilder& builder, std::string_view what, int max_depth) {
  const auto& at = builder.too_deep_at();
  std::string message = fmt::format("nests deeper than {} levels", max_depth);
  std::string where = at.empty() ? std::string() : " at " + path_text(at);
  return Error{ErrorCode::invalid_input, fmt::format("{} {}{}", what, message, where), {{field_of(at, what), message}}};
}

Error duplicate(const BoundedBuilder& builder, std::string_view what) {
  const auto& at = builder.duplicate_at();
  std::string message = fmt::format("has the member {} twice", text::quote_outside(at.back().text));
  return Error{ErrorCode::invalid_input,
               fmt::format("{} {} at {}", what, message, path_text(at)),
               {{field_of(at, what), message}}};
}

const json* member(const json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

Error member_error(std::string_view name, std::string_view problem) {
  return Error{
      ErrorCode::invalid_input, fmt::format("{}: {}", name, problem), {{std::string(name), std::string(problem)}}};
}

}  // namespace

namespace {

Result<json> parse_bounded(std::string_view text, std::string_view what, const JsonLimits& limits,
                           std::string_view stream_list, const TakeElement* take) {
  if (text.size() > limits.max_bytes) {
    return make_error(ErrorCode::too_large, fmt::format("{} is larger than {} bytes", what, limits.max_bytes));
  }
  BoundedBuilder builder(limits.max_depth, stream_list, take);
  if (json::sax_parse(text.begin(), text.end(), &builder)) return std::move(builder.root());
  if (builder.too_deep()) return too_deep(builder, what, limits.max_depth);
  if (!builder.duplicate_at().empty()) return duplicate(builder, what);
  return make_error(ErrorCode::invalid_input,
                    fmt::format("{} is not valid JSON (at byte {})", what, builder.error_position()));
}

}  // namespace

Result<json> parse_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
  return parse_bounded(text, what, limits, {}, nullptr);
}

Result<json> parse_json_streaming(std::string_view text, std::string_view what, const JsonLimits& limits,
                                  std::string_view list, const TakeElement& take) {
  return parse_bounded(text, what, limits, list, &take);
}

Result<std::string> string_member(const json& object, std::string_view name) {
  const json* value = member(object, name);
  if (value == nullptr) return member_error(name, "missing");
  if (!value->is_string()) return member_error(name, "must be a string");
  return value->get<std::string>();
}

Result<double> number_member(const json& object, std::string_view name) {
  const json* value = member(object, name);
  if (value == nullptr) return member_error(name, "missing");
  if (!value->is_number()) return member_error(name, "must be a number");
  return value->get<double>();
}

Result<bool> bool_member(const json& object, std::string_view name) {
  const json* value = member(object, name);
  if (value == nullptr) return member_error(name, "missing");
  if (!value->is_boolean()) return member_error(name, "must be a boolean");
  return value->get<bool>();
}

json json_time(std::optional<std::int64_t> ms) { return ms ? json(format_rfc3339(*ms)) : json(nullptr); }

json stored_json_or_empty(std::string_view text) {
  auto value = parse_json(text, "stored JSON", {.max_bytes = k_size_checked_elsewhere});
  return value ? std::move(*value) : json::object();
}

std::string dump_json(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string dump_json(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace mailer
