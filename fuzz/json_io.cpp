// The HTTP API's request readers (src/http/json_io.cpp): what every /v1 route
// parses from an authenticated, but still untrusted, client.
//
// Input: one selector byte, then the body (or query lines "name=value" for
// 'q', 'p' and 'o'): 't' template, 'r' render, 'b' batch, 'm' message,
// 's' suppression, 'q' event query, 'p' paging, 'o' older_than, 'a' the
// attachments array (render::message_attachments: base64, names, types).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailer/core/config.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/core/json.hpp"
#include "mailer/render/attachments.hpp"
#include "mailer/render/template.hpp"

namespace {

using namespace mailer::http;

json_io::QueryParams query_lines(std::string_view text) {
  json_io::QueryParams params;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const auto line = text.substr(0, end);
    const auto equals = line.find('=');
    if (equals != std::string_view::npos) {
      params.emplace(std::string(line.substr(0, equals)), std::string(line.substr(equals + 1)));
    }
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return params;
}

void read_render_request(const std::string& body) {
  auto request = json_io::parse_render_request(body);
  if (request) (void)mailer::render::check_variables(request->variables);
}

void read_attachments(const std::string& body) {
  auto parsed = mailer::parse_json(body, "attachments");
  if (parsed) (void)mailer::render::message_attachments(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 't': (void)json_io::parse_template_input(body); break;
    case 'r': read_render_request(body); break;
    case 'b': (void)json_io::parse_batch_request(body, mailer::LimitsConfig{}.max_recipients); break;
    case 'm': (void)json_io::parse_message_request(body); break;
    case 's': (void)json_io::parse_suppression_input(body); break;
    case 'q': (void)json_io::parse_event_query(query_lines(body)); break;
    case 'p': (void)json_io::parse_page_params(query_lines(body)); break;
    case 'o': (void)json_io::parse_older_than(body, 1'800'000'000'000); break;
    case 'a': read_attachments(body); break;
    default: break;
  }
  return 0;
}
