// Template compile + render (src/render/template.cpp), as POST /v1/templates
// and the render route use it: the parts come from a send-scope key.
//
// Input: subject, html, text and the variables JSON, separated by
// "\n@@@@\n" lines (fuzz_input.hpp). Variables go through check_variables
// first, as every route does before rendering.

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_input.hpp"
#include "mailer/render/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = mailer::fuzz::split_input(data, size, 4);
  mailer::render::TemplateParts template_parts{parts[0], parts[1], parts[2]};
  auto compiled = mailer::render::compile_template(template_parts);
  if (!compiled) return 0;
  auto variables = nlohmann::json::parse(parts[3], nullptr, false);
  if (variables.is_discarded() || !mailer::render::check_variables(variables)) return 0;
  auto merged = mailer::render::merge_variables(variables, nlohmann::json::object(),
                                                {"a@example.com", "https://x.example/u/t", "bat_1"});
  (void)mailer::render::render(*compiled, merged);
  return 0;
}
