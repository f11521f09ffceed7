#pragma once
// The rules an attachment must meet to be accepted (SES v2 Attachment, and
// what SES refuses when it builds the MIME message), checked at acceptance
// so that nothing SES will refuse is queued. Pure: no I/O.
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Attachment.html
// https://docs.aws.amazon.com/ses/latest/dg/mime-types.html (unsupported types)
// https://docs.aws.amazon.com/ses/latest/dg/quotas.html (40 MB per message)

#include <cstddef>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/attachment.hpp"
#include "mailer/core/error.hpp"

namespace mailer::render {

/// At most this many attachments per message (or per batch).
inline constexpr std::size_t k_max_attachments = 10;
/// Decoded bytes of one file, and of all files of a message. SES takes 40 MB
/// per message after MIME encoding; base64 in 76-character lines makes 25 MiB
/// about 35.9 MB, which leaves room for the body and headers.
inline constexpr std::size_t k_max_attachment_bytes = 20u * 1024 * 1024;
inline constexpr std::size_t k_max_attachments_total_bytes = 25u * 1024 * 1024;
/// SES: FileName at most 255, ContentId 1 to 78 characters.
inline constexpr std::size_t k_max_filename_bytes = 255;
inline constexpr std::size_t k_max_content_id_length = 78;
inline constexpr std::size_t k_max_content_type_length = 127;

/// True when SES refuses a file named `filename` for its extension (the text
/// after the last '.', any case), e.g. "setup.EXE", "run.bat", "x.vbs": the
/// list of https://docs.aws.amazon.com/ses/latest/dg/mime-types.html.
bool has_unsupported_extension(std::string_view filename);

/// Why `filename` cannot be sent, or empty: empty, longer than 255 bytes,
/// a control character (0-31, 127), '/' or '\\' (a path), "." or "..", a
/// trailing '.' or space (Windows drops them, revealing another extension),
/// or an extension SES refuses.
std::string filename_problem(std::string_view filename);

/// Why `content_type` cannot be sent, or empty. Accepted: "type/subtype"
/// (RFC 2045 tokens, no parameters, at most 127 characters, any case) whose
/// type is application, audio, font, image, model, text or video, and which
/// is not an executable or script type (application/x-msdownload,
/// application/x-sh, application/javascript, text/javascript, ...: the
/// content of the extensions SES refuses).
std::string content_type_problem(std::string_view content_type);

/// The `attachments` of a request: null means none, else an array of at most
/// k_max_attachments objects {filename, content_type, content (standard
/// base64, RFC 4648 section 4, with padding, no line breaks), disposition
/// ("attachment", the default, or "inline"), content_id (required for
/// inline, where the HTML refers to it as cid:<content_id>: 1 to 78
/// characters of letters, digits and !#$%&'*+-/=?^_`{|}~.@, unique in the
/// message; not allowed for attachment)}. Returns them in order, content
/// decoded, content_type in lower case.
/// Errors, one field per problem, named "attachments" or
/// "attachments[i].<member>":
///  - too_large "attachments are too large" when a file decodes to more than
///    k_max_attachment_bytes or all to more than k_max_attachments_total_bytes
///    (the size is read from the base64 length, before decoding);
///  - invalid_input "attachments are invalid" otherwise, e.g.
///    "attachments[1].content_type: application/x-msdownload is not a type SES sends".
Result<std::vector<Attachment>> message_attachments(const nlohmann::json& attachments);

}  // namespace mailer::render
