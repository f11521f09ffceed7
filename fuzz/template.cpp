// Template compile + render (src/render/template.cpp), as POST /v1/templates,
// the render route and the job engine use them: every part comes from a key.
//
// Input: subject, html, text, batch variables and recipient variables (JSON),
// separated by "\n@@@@\n" lines (fuzz_input.hpp). The variables are read by the
// same bounded reader as request bodies (core/json.hpp), merged as a batch
// message merges them, then rendered; render checks their depth itself, as
// the render route relies on.

#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "mailer/core/json.hpp"
#include "mailer/render/template.hpp"

namespace {

using namespace mailer;

// A variables object as a route reads it: null (none) or an object.
Result<nlohmann::json> read_variables(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  auto json = parse_json(text, "variables", {.max_bytes = k_size_checked_elsewhere});
  if (json && !json->is_object() && !json->is_null()) return make_error(ErrorCode::invalid_input, "not an object");
  return json;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_input(data, size, 5);
  auto compiled = render::compile_template({parts[0], parts[1], parts[2]});
  if (!compiled) return 0;
  auto batch = read_variables(parts[3]);
  auto recipient = read_variables(parts[4]);
  if (!batch || !recipient) return 0;
  (void)render::check_variables(*batch);
  auto merged = render::merge_variables(*batch, *recipient, {"a@example.com", "https://x.example/u/t", "bat_1"});
  (void)render::render(*compiled, merged);
  return 0;
}
