#pragma once
// One file sent with a message (SES v2 Content.Simple.Attachments), as
// accepted, stored and sent. Accept builds it (render::message_attachments),
// the store keeps it (store/attachments.hpp), the composer reads it back and
// the SES client sends it. The bytes are shared: a batch's files go to every
// recipient without a copy per message.
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Attachment.html

#include <cstddef>
#include <memory>
#include <string>

namespace mailer {

enum class Disposition {
  attachment,  // a file to download (SES ContentDisposition ATTACHMENT)
  inlined,     // shown in the HTML body through cid:<content_id> (INLINE)
};

/// "attachment" | "inline": the request and column spelling.
inline const char* to_string(Disposition disposition) {
  return disposition == Disposition::inlined ? "inline" : "attachment";
}

struct Attachment {
  std::string filename;      // as given, checked: 1-255 bytes, no path or control characters
  std::string content_type;  // lower case "type/subtype", e.g. "application/pdf"
  Disposition disposition = Disposition::attachment;
  std::string content_id;  // inline only (required there); empty for attachment
  std::shared_ptr<const std::string> content = std::make_shared<const std::string>();  // decoded bytes
  std::size_t size_bytes() const { return content ? content->size() : 0; }
};

}  // namespace mailer
