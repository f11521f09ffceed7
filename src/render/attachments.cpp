#include "mailer/render/attachments.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::render {
namespace {

// https://docs.aws.amazon.com/ses/latest/dg/mime-types.html, "Unsupported
// attachment types": SES refuses a message with a file of these extensions.
constexpr std::string_view k_unsupported_extensions[] = {
    "ade",    "adp",   "app",     "asp",     "bas",     "bat",  "cer",      "chm",  "cmd",  "com",  "cpl",
    "crt",    "csh",   "der",     "exe",     "fxp",     "gadget", "hlp",    "hta",  "inf",  "ins",  "isp",
    "its",    "js",    "jse",     "ksh",     "lib",     "lnk",  "mad",      "maf",  "mag",  "mam",  "maq",
    "mar",    "mas",   "mat",     "mau",     "mav",     "maw",  "mda",      "mdb",  "mde",  "mdt",  "mdw",
    "mdz",    "msc",   "msh",     "msh1",    "msh2",    "mshxml", "msh1xml", "msh2xml", "msi", "msp", "mst",
    "ops",    "pcd",   "pif",     "plg",     "prf",     "prg",  "reg",      "scf",  "scr",  "sct",  "shb",
    "shs",    "sys",   "ps1",     "ps1xml",  "ps2",     "ps2xml", "psc1",   "psc2", "tmp",  "url",  "vb",
    "vbe",    "vbs",   "vps",     "vsmacros", "vss",    "vst",  "vsw",      "vxd",  "ws",   "wsc",  "wsf",
    "wsh",    "xnk"};

// Media types of the programs and scripts behind those extensions: a file
// declared as one is refused whatever its name.
constexpr std::string_view k_refused_types[] = {"application/x-msdownload",
                                                "application/x-msdos-program",
                                                "application/x-dosexec",
                                                "application/x-executable",
                                                "application/vnd.microsoft.portable-executable",
                                                "application/x-ms-installer",
                                                "application/x-msi",
                                                "application/x-ms-shortcut",
                                                "application/x-bat",
                                                "application/x-sh",
                                                "application/x-csh",
                                                "application/x-shellscript",
                                                "application/hta",
                                                "application/javascript",
                                                "application/x-javascript",
                                                "application/ecmascript",
                                                "application/x-vbscript",
                                                "application/vnd.ms-htmlhelp",
                                                "application/x-msaccess",
                                                "text/javascript",
                                                "text/ecmascript",
                                                "text/vbscript",
                                                "text/x-sh"};

constexpr std::string_view k_sent_top_types[] = {"application", "audio", "font", "image", "model", "text", "video"};

constexpr std::string_view k_members[] = {"filename", "content_type", "content", "disposition", "content_id"};

// RFC 2045 section 5.1: token := 1*<any CHAR except SPACE, CTLs, or tspecials>.
bool is_token(std::string_view text) {
  constexpr std::string_view k_tspecials = "()<>@,;:\\\"/[]?=";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return c > ' ' && c < 127 && k_tspecials.find(c) == std::string_view::npos;
  });
}

// RFC 5322 atext plus '.' and '@' (a msg-id such as "logo.1@example.com").
bool is_content_id(std::string_view text) {
  constexpr std::string_view k_specials = "!#$%&'*+-/=?^_`{|}~.@";
  if (text.empty() || text.size() > k_max_content_id_length) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           k_specials.find(c) != std::string_view::npos;
  });
}

// RFC 4648 section 4 with padding: the alphabet, '=' only as the last one or two.
bool is_base64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  const auto padding = text.find('=');
  if (padding != std::string_view::npos && (padding + 2 < text.size() || text.find_first_not_of('=', padding) !=
                                                                            std::string_view::npos))
    return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(padding, text.size())),
                     [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                              c == '/';
                     });
}

// The decoded size base64 of this length and padding stands for.
std::size_t decoded_size(std::string_view text) {
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  return text.size() / 4 * 3 - std::min(padding, text.size() / 4 * 3);
}

struct Checking {
  FieldErrors invalid;
  FieldErrors too_large;
  std::set<std::string> content_ids;
  std::size_t total_bytes = 0;
};

const std::string* string_member(const nlohmann::json& item, const char* name) {
  auto found = item.find(name);
  return found != item.end() && found->is_string() ? &found->get_ref<const std::string&>() : nullptr;
}

void check_unknown(const nlohmann::json& item, const std::string& at, Checking& c) {
  for (const auto& [name, value] : item.items()) {
    if (std::find(std::begin(k_members), std::end(k_members), name) == std::end(k_members))
      c.invalid.push_back({at + "." + text::shorten(name), "unknown field"});
  }
}

void read_names(const nlohmann::json& item, const std::string& at, Attachment& out, Checking& c) {
  const auto* filename = string_member(item, "filename");
  if (!filename) c.invalid.push_back({at + ".filename", "required: a string"});
  else if (auto problem = filename_problem(*filename); !problem.empty()) c.invalid.push_back({at + ".filename", problem});
  else out.filename = *filename;
  const auto* type = string_member(item, "content_type");
  if (!type) c.invalid.push_back({at + ".content_type", "required: a string such as application/pdf"});
  else if (auto problem = content_type_problem(*type); !problem.empty()) c.invalid.push_back({at + ".content_type", problem});
  else out.content_type = text::ascii_lower(*type);
}

void read_disposition(const nlohmann::json& item, const std::string& at, Attachment& out, Checking& c) {
  if (item.contains("disposition")) {
    const auto* given = string_member(item, "disposition");
    if (given && *given == "inline") out.disposition = Disposition::inlined;
    else if (!given || *given != "attachment")
      return c.invalid.push_back({at + ".disposition", "must be \"attachment\" or \"inline\""});
  }
  const bool has_id = item.contains("content_id");
  if (out.disposition == Disposition::attachment) {
    if (has_id) c.invalid.push_back({at + ".content_id", "only for inline attachments"});
    return;
  }
  const auto* id = string_member(item, "content_id");
  if (!id) return c.invalid.push_back({at + ".content_id", "required for inline: the name the HTML refers to as cid:"});
  if (!is_content_id(*id))
    return c.invalid.push_back(
        {at + ".content_id", "must be 1 to 78 characters: letters, digits and !#$%&'*+-/=?^_`{|}~.@"});
  if (!c.content_ids.insert(*id).second) return c.invalid.push_back({at + ".content_id", "is given twice"});
  out.content_id = *id;
}

void read_content(const nlohmann::json& item, const std::string& at, Attachment& out, Checking& c) {
  const auto* content = string_member(item, "content");
  if (!content) return c.invalid.push_back({at + ".content", "required: the file's bytes in base64"});
  if (content->empty()) return c.invalid.push_back({at + ".content", "must not be empty"});
  if (!is_base64(*content))
    return c.invalid.push_back(
        {at + ".content", "must be standard base64 (RFC 4648 section 4) with padding and without line breaks"});
  const auto size = decoded_size(*content);
  c.total_bytes += size;
  if (size > k_max_attachment_bytes)
    return c.too_large.push_back(
        {at + ".content", fmt::format("decodes to {} bytes; at most {} are allowed per file", size,
                                      k_max_attachment_bytes)});
  if (!c.too_large.empty() || c.total_bytes > k_max_attachments_total_bytes) return;
  std::string bytes;
  if (!crypto::base64_decode(*content, bytes))
    return c.invalid.push_back({at + ".content", "must be standard base64 (RFC 4648 section 4)"});
  out.content = std::make_shared<const std::string>(std::move(bytes));
}

Error refusal(Checking& c) {
  if (!c.too_large.empty())
    return Error{ErrorCode::too_large, "attachments are too large", std::move(c.too_large)};
  return Error{ErrorCode::invalid_input, "attachments are invalid", std::move(c.invalid)};
}

}  // namespace

bool has_unsupported_extension(std::string_view filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string extension = text::ascii_lower(filename.substr(dot + 1));
  return std::find(std::begin(k_unsupported_extensions), std::end(k_unsupported_extensions), extension) !=
         std::end(k_unsupported_extensions);
}

std::string filename_problem(std::string_view filename) {
  if (filename.empty()) return "must not be empty";
  if (filename.size() > k_max_filename_bytes)
    return fmt::format("is {} bytes long; at most {} are allowed", filename.size(), k_max_filename_bytes);
  if (std::any_of(filename.begin(), filename.end(), [](char c) { return static_cast<unsigned char>(c) < 32 || c == 127; }))
    return "must not contain control characters";
  if (text::has_hidden_characters(filename))
    return "must not contain invisible or direction-changing characters (such as U+200B or U+202E)";
  if (filename.find_first_of("/\\") != std::string_view::npos) return "must be a name, without '/' or '\\'";
  if (filename == "." || filename == "..") return "must be a file name, not . or ..";
  if (filename.back() == '.' || filename.back() == ' ') return "must not end with '.' or a space";
  if (has_unsupported_extension(filename))
    return fmt::format("SES refuses files of type .{} (see its unsupported attachment types)",
                       text::ascii_lower(filename.substr(filename.rfind('.') + 1)));
  return {};
}

std::string content_type_problem(std::string_view content_type) {
  const auto slash = content_type.find('/');
  if (content_type.size() > k_max_content_type_length || slash == std::string_view::npos ||
      !is_token(content_type.substr(0, slash)) || !is_token(content_type.substr(slash + 1)) ||
      content_type.find('*') != std::string_view::npos)  // a wildcard names no type
    return "must be a media type such as application/pdf, without parameters";
  const std::string lower = text::ascii_lower(content_type);
  const auto top = std::string_view(lower).substr(0, slash);
  if (std::find(std::begin(k_sent_top_types), std::end(k_sent_top_types), top) == std::end(k_sent_top_types))
    return fmt::format("type {} is not sent; use application, audio, font, image, model, text or video",
                       text::shorten(top));
  if (std::find(std::begin(k_refused_types), std::end(k_refused_types), lower) != std::end(k_refused_types))
    return fmt::format("{} is a program or script type, which SES refuses", lower);
  return {};
}

Result<std::vector<Attachment>> message_attachments(const nlohmann::json& attachments) {
  std::vector<Attachment> out;
  if (attachments.is_null()) return out;
  if (!attachments.is_array())
    return Error{ErrorCode::invalid_input, "attachments are invalid",
                 {{"attachments", "must be an array of {filename, content_type, content}"}}};
  if (attachments.size() > k_max_attachments)
    return Error{ErrorCode::invalid_input, "attachments are invalid",
                 {{"attachments", fmt::format("has {} files; at most {} are allowed", attachments.size(),
                                              k_max_attachments)}}};
  Checking c;
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    const auto& item = attachments[i];
    const auto at = fmt::format("attachments[{}]", i);
    if (!item.is_object()) {
      c.invalid.push_back({at, "must be an object {filename, content_type, content}"});
      continue;
    }
    Attachment attachment;
    check_unknown(item, at, c);
    read_names(item, at, attachment, c);
    read_disposition(item, at, attachment, c);
    read_content(item, at, attachment, c);
    out.push_back(std::move(attachment));
  }
  if (c.total_bytes > k_max_attachments_total_bytes && c.too_large.empty())
    c.too_large.push_back({"attachments", fmt::format("decode to {} bytes in all; at most {} are allowed",
                                                      c.total_bytes, k_max_attachments_total_bytes)});
  if (!c.too_large.empty() || !c.invalid.empty()) return refusal(c);
  return out;
}

}  // namespace mailer::render
