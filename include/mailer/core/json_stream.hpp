#pragma once
// parse_json for a document with one long list (POST /v1/batches' recipients):
// the list's elements are handed over one by one as they are read, so the
// document is never held whole next to what it becomes.

#include <cstddef>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/core/json.hpp"

namespace mailer {

/// Called with each element of the streamed list and its index, in order.
using TakeElement = std::function<void(std::size_t index, nlohmann::json&& element)>;

/// parse_json(text, what, limits), same checks and errors, except that when the
/// top-level value is an object whose member `list` is an array, each element
/// of that array is passed to `take` as soon as it is complete and not kept:
/// the member is left as an empty array. Elements taken before a later error
/// (invalid JSON, too deep, a duplicate member) have been taken all the same;
/// error paths count them ("recipients[7].variables").
Result<nlohmann::json> parse_json_streaming(std::string_view text, std::string_view what, const JsonLimits& limits,
                                            std::string_view list, const TakeElement& take);

}  // namespace mailer
