#pragma once
// What accept decided about a message besides its recipient and content: the
// From mailbox, the Reply-To mailboxes and the SES tags. Accept builds a
// MessageSpec from the request (sendable_mailbox, message_tags: every problem
// named by field), stores it with store_message_spec into three columns of
// batches and messages (from_address, reply_to_json, tags_json), and the
// composer reads them back with read_message_spec. Reading applies the same
// rules and refuses, naming the field, what it cannot read: a message is
// failed rather than sent with part of its spec dropped.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/render/address.hpp"

namespace mailer::render {

/// A From or Reply-To mailbox: the text as the client gave it (what is stored
/// and shown back) and what it parses to (what SES gets, formatted by
/// format_mailbox_for_ses).
struct GivenMailbox {
  std::string given;
  Mailbox mailbox;
  friend bool operator==(const GivenMailbox&, const GivenMailbox&) = default;
};

/// An SES message tag (EmailTags entry).
struct MessageTag {
  std::string name;
  std::string value;
  friend bool operator==(const MessageTag&, const MessageTag&) = default;
};

struct MessageSpec {
  GivenMailbox from;
  std::vector<GivenMailbox> reply_to;
  std::vector<MessageTag> tags;  // ordered by name, names unique
  friend bool operator==(const MessageSpec&, const MessageSpec&) = default;
};

/// A MessageSpec as its three columns hold it: the given From text, a JSON
/// array of the given Reply-To texts, a JSON object of tag name -> value.
struct StoredMessageSpec {
  std::string from_address;
  std::string reply_to_json = "[]";
  std::string tags_json = "{}";
};

/// True when `text` is 1..`max_length` ASCII letters, digits, _ or -: SES's
/// rule for tag names and values (at most 256) and configuration set names (64).
/// Source: docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html
bool is_ses_name(std::string_view text, std::size_t max_length);

/// `given` as a mailbox SES accepts in From or Reply-To: parse_mailbox (its
/// errors pass through), and the formatted mailbox fits one header line.
/// Error (invalid_input): parse_mailbox's, or "display name is too long: the
/// mailbox takes N bytes in its header; at most 988 fit the 998-character
/// header line (RFC 5322 section 2.1.1)".
Result<GivenMailbox> sendable_mailbox(std::string_view given);

/// The tags of a request: null means none, else an object of name -> string
/// value, both is_ses_name(.., 256). Error (invalid_input) with one field per
/// problem: "tags" ("must be an object of name: value strings") or
/// "tags.<name>" ("name must be ..." / "value must be a string of ...").
Result<std::vector<MessageTag>> message_tags(const nlohmann::json& tags);

/// The one way a MessageSpec is written to its columns.
StoredMessageSpec store_message_spec(const MessageSpec& spec);

/// The one way the columns are read back, by the rules that accepted them.
/// Error (invalid_input), detail naming the stored field and its problem, e.g.
/// "stored reply_to[1]: address must contain exactly one @" or
/// "stored tags.bad tag: name must be 1 to 256 ASCII letters, digits, _ or -".
Result<MessageSpec> read_message_spec(const StoredMessageSpec& stored);

}  // namespace mailer::render
