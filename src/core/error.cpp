#include "mailer/core/error.hpp"

namespace mailer {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input: return "invalid_input";
    case ErrorCode::unauthorized: return "unauthorized";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::unsupported_media: return "unsupported_media";
    case ErrorCode::rate_limited: return "rate_limited";
    case ErrorCode::upstream_throttled: return "upstream_throttled";
    case ErrorCode::upstream_transient: return "upstream_transient";
    case ErrorCode::upstream_permanent: return "upstream_permanent";
    case ErrorCode::storage_unavailable: return "storage_unavailable";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

std::optional<FieldError> FieldErrors::omitted_note() const {
  if (m_omitted == 0) return std::nullopt;
  return FieldError{"...", std::to_string(m_omitted) + " more error" + (m_omitted == 1 ? "" : "s") + " not listed"};
}

}  // namespace mailer
