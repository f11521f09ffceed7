// A readable RFC 5322 rendering of an accepted SendEmail, so a developer can
// open what "SES" would have sent. Parts are 8bit UTF-8 (readability over
// transport safety: the file never travels over SMTP).
#include "fake_ses.hpp"

#include <ctime>

#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::fake_ses {

namespace {

using nlohmann::json;

bool is_ascii(const std::string& text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

std::string join(const json& list) { return text::join(list.get<std::vector<std::string>>(), ", "); }

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &parts);
  return buffer;
}

std::string text_of(const json& simple_body, const char* key) {
  if (!simple_body.contains(key)) return {};
  return simple_body[key]["Data"].get<std::string>();
}

std::string part(const std::string& type, const std::string& data) {
  return "Content-Type: " + type + "; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + data + "\r\n";
}

// A MIME parameter value: quoted, with `"` and `\` escaped; non-ASCII as
// encoded-words, which mail clients read in filenames.
std::string mime_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : encode_rfc2047(text)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An attachment's part: its bytes base64 in lines of 76 (RFC 2045 §6.8).
std::string attachment_part(const json& attachment) {
  std::string bytes;
  crypto::base64_decode(attachment["RawContent"].get<std::string>(), bytes);  // validated before
  std::string encoded = crypto::base64_encode(bytes);
  std::string name = attachment["FileName"].get<std::string>();
  std::string type = attachment.value("ContentType", std::string("application/octet-stream"));
  bool is_inline = attachment.value("ContentDisposition", std::string("ATTACHMENT")) == "INLINE";
  std::string out = "Content-Type: " + type + "; name=" + mime_quoted(name) + "\r\n";
  out += "Content-Disposition: " + std::string(is_inline ? "inline" : "attachment") +
         "; filename=" + mime_quoted(name) + "\r\n";
  if (attachment.contains("ContentId")) out += "Content-ID: <" + attachment["ContentId"].get<std::string>() + ">\r\n";
  if (attachment.contains("ContentDescription")) {
    out += "Content-Description: " + encode_rfc2047(attachment["ContentDescription"].get<std::string>()) + "\r\n";
  }
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  for (size_t at = 0; at < encoded.size(); at += 76) out += encoded.substr(at, 76) + "\r\n";
  return out;
}

// What SES adds for ListManagementOptions: its unsubscribe link (here on the
// fake's own host, not served) in a one-click List-Unsubscribe (RFC 8058).
std::string unsubscribe_link(const json& body, const std::string& message_id, const std::string& host) {
  const auto& list = body["ListManagementOptions"];
  std::string link = "http://" + (host.empty() ? std::string("fake-ses.invalid") : host) + "/_fake/unsubscribe/" +
                     message_id + "?list=" + list["ContactListName"].get<std::string>();
  if (list.contains("TopicName")) link += "&topic=" + list["TopicName"].get<std::string>();
  return link;
}

std::string list_management_headers(const json& body, const std::string& link) {
  const auto& list = body["ListManagementOptions"];
  std::string options = list["ContactListName"].get<std::string>();
  if (list.contains("TopicName")) options += "; topic=" + list["TopicName"].get<std::string>();
  return "X-SES-LIST-MANAGEMENT-OPTIONS: " + options + "\r\nList-Unsubscribe: <" + link +
         ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
}

// Sending authorization and feedback forwarding, as SES's own headers name
// them for raw mail; the feedback address is the message's Return-Path.
std::string sending_identity_headers(const json& body) {
  std::string out;
  if (body.contains("FeedbackForwardingEmailAddress"))
    out += "Return-Path: <" + body["FeedbackForwardingEmailAddress"].get<std::string>() + ">\r\n";
  if (body.contains("FromEmailAddressIdentityArn"))
    out += "X-SES-FROM-ARN: " + body["FromEmailAddressIdentityArn"].get<std::string>() + "\r\n";
  if (body.contains("FeedbackForwardingEmailAddressIdentityArn"))
    out += "X-SES-RETURN-PATH-ARN: " + body["FeedbackForwardingEmailAddressIdentityArn"].get<std::string>() + "\r\n";
  return out;
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

// RFC 2047 §2: each encoded-word at most 75 characters, so the UTF-8 text is
// cut into pieces of at most 45 bytes (60 base64 chars), never inside a character.
std::string encode_rfc2047(const std::string& text) {
  if (is_ascii(text)) return text;
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + 45);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + crypto::base64_encode(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string render_eml(const json& body, const std::string& message_id,
                       std::chrono::system_clock::time_point received, const std::string& host) {
  const auto& simple = body["Content"]["Simple"];
  std::string out = sending_identity_headers(body);
  out += "Message-ID: <" + message_id + "@email.amazonses.com>\r\n";
  out += "Date: " + rfc5322_date(received) + "\r\n";
  out += "From: " + body["FromEmailAddress"].get<std::string>() + "\r\n";
  const auto& destination = body["Destination"];
  if (destination.contains("ToAddresses")) out += "To: " + join(destination["ToAddresses"]) + "\r\n";
  if (destination.contains("CcAddresses")) out += "Cc: " + join(destination["CcAddresses"]) + "\r\n";
  if (body.contains("ReplyToAddresses")) out += "Reply-To: " + join(body["ReplyToAddresses"]) + "\r\n";
  out += "Subject: " + encode_rfc2047(simple["Subject"]["Data"].get<std::string>()) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (simple.contains("Headers")) {
    for (const auto& h : simple["Headers"]) {
      out += h["Name"].get<std::string>() + ": " + h["Value"].get<std::string>() + "\r\n";
    }
  }
  if (body.contains("ConfigurationSetName")) {
    out += "X-SES-CONFIGURATION-SET: " + body["ConfigurationSetName"].get<std::string>() + "\r\n";
  }
  if (body.contains("EmailTags")) {
    std::string tags;
    for (const auto& t : body["EmailTags"]) {
      if (!tags.empty()) tags += ", ";
      tags += t["Name"].get<std::string>() + "=" + t["Value"].get<std::string>();
    }
    out += "X-SES-MESSAGE-TAGS: " + tags + "\r\n";
  }
  std::string text = text_of(simple["Body"], "Text");
  std::string html = text_of(simple["Body"], "Html");
  if (body.contains("ListManagementOptions")) {
    const std::string link = unsubscribe_link(body, message_id, host);
    out += list_management_headers(body, link);
    replace_all(text, "{{amazonSESUnsubscribeUrl}}", link);
    replace_all(html, "{{amazonSESUnsubscribeUrl}}", link);
  }
  bool has_text = simple["Body"].contains("Text");
  bool has_html = simple["Body"].contains("Html");
  std::string content;  // the body's headers, blank line, content
  if (has_text && has_html) {
    std::string boundary = "=_fake_ses_" + message_id;
    content += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    content += "--" + boundary + "\r\n" + part("text/plain", text);
    content += "--" + boundary + "\r\n" + part("text/html", html);
    content += "--" + boundary + "--\r\n";
  } else {
    content += part(has_html ? "text/html" : "text/plain", has_html ? html : text);
  }
  if (!simple.contains("Attachments") || simple["Attachments"].empty()) return out + content;
  std::string boundary = "=_fake_ses_mixed_" + message_id;
  out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + content;
  for (const auto& attachment : simple["Attachments"]) out += "--" + boundary + "\r\n" + attachment_part(attachment);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace mailer::fake_ses
