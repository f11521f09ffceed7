#pragma once
// What a transactional message may carry beyond its recipients and content:
// custom headers and metadata. Accept checks each here, naming every problem
// by field, stores them as JSON columns (schema 0007), and the composer reads
// the headers back with the same rules, so a row that could not have been
// accepted is failed rather than sent with part of it dropped. Pure: no I/O.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"

namespace mailer::render {

/// SES takes at most 15 Content.Simple.Headers; mailerd adds
/// X-Mailer-Message-Id to every message, which leaves 14.
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Message.html
inline constexpr std::size_t k_max_custom_headers = 14;
inline constexpr std::size_t k_max_header_name_length = 126;
inline constexpr std::size_t k_max_header_value_length = 870;
/// Metadata bounds: small enough to ride on every event of the message.
inline constexpr std::size_t k_max_metadata_keys = 20;
inline constexpr std::size_t k_max_metadata_key_length = 40;
inline constexpr std::size_t k_max_metadata_value_length = 500;
inline constexpr std::size_t k_max_metadata_bytes = 4096;

/// One Content.Simple.Headers entry, name as given.
struct MessageHeader {
  std::string name;
  std::string value;
  friend bool operator==(const MessageHeader&, const MessageHeader&) = default;
};

/// True when `name` (any case) is a header SES or mailerd writes itself, which a
/// client may not set: From, To, Cc, Bcc, Sender, Reply-To (has its own
/// field), Subject, Date, Message-ID, Return-Path, MIME-Version, Content-Type,
/// Content-Transfer-Encoding, Content-Disposition, Content-ID, Content-Length,
/// DKIM-Signature, DomainKey-Signature, Received, List-Unsubscribe,
/// List-Unsubscribe-Post (mailerd's for bulk mail), X-Mailer-Message-Id, and
/// every X-SES-* name. Source: https://docs.aws.amazon.com/ses/latest/dg/header-fields.html
bool is_reserved_header(std::string_view name);

/// The `headers` of a request: null means none, else an object of name ->
/// string value, at most k_max_custom_headers. Names: 1-126 printable ASCII
/// characters except ':' (33-126), not reserved, not repeated in another case;
/// values: 1-870 printable ASCII characters (32-126: no CR, LF or tab), as
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageHeader.html
/// says. Errors (invalid_input), one field per problem: "headers" ("must be an
/// object of name: value strings", "has N headers; at most 14 are allowed") or
/// "headers.<name>" (e.g. "is set by mailerd or SES and cannot be given",
/// "value must be 1 to 870 printable ASCII characters, without line breaks").
Result<std::vector<MessageHeader>> custom_headers(const nlohmann::json& headers);

/// The `metadata` of a request: null means none, else a flat object of
/// string -> string: at most 20 keys of 1-40 characters, values of at most 500
/// characters (UTF-8 bytes), 4096 bytes of compact JSON in all. Returns the
/// object as stored ("{}" for none). Errors (invalid_input) naming "metadata"
/// or "metadata.<key>".
Result<std::string> message_metadata(const nlohmann::json& metadata);

/// The one way headers are written to their column: a JSON object name -> value.
std::string store_headers(const std::vector<MessageHeader>& headers);
/// Reads the column back by custom_headers()'s rules. Error (invalid_input),
/// detail "stored headers.<name>: <problem>".
Result<std::vector<MessageHeader>> read_headers(std::string_view stored);

}  // namespace mailer::render
