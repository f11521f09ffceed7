// The dashboard (docs/DASHBOARD.md): static files compiled into the binary
// (include/mailer/http/ui_files.hpp), served without a key. Its pages call the
// JSON API with the key the operator types in, so nothing here is secret.
//
// A request names a file of the table or gets 404: there is no file system
// behind /ui/, so "..", "%2e%2e" or a backslash can only miss. The files are
// not fingerprinted, so the browser revalidates each load (no-cache) and gets
// 304 while the ETag (a hash of the bytes) still matches.
#include <httplib.h>

#include <string_view>

#include "mailer/core/text.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/http/ui_files.hpp"

namespace mailer::http {

namespace {

// No inline script or style anywhere in ui/: this policy would block it.
constexpr const char* k_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void set_security_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy", k_content_security_policy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

const UiFile* find_file(std::string_view name) {
  for (const auto& file : ui_files()) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

// RFC 9110 §13.1.2: a list of entity tags or "*"; weak comparison, so a
// "W/" prefix a proxy added still matches.
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto tag = text::trim_blanks(if_none_match.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

void not_found(const httplib::Request& req, httplib::Response& res) {
  set_security_headers(res);
  write_problem(res, problem_for_status(404, "no route for " + text::shorten(req.path)));
}

void serve_file(const httplib::Request& req, httplib::Response& res, const Context& context, std::string_view name) {
  const UiFile* file = context.deps.config.ui.enabled ? find_file(name) : nullptr;
  if (file == nullptr) return not_found(req, res);
  set_security_headers(res);
  res.set_header("ETag", std::string(file->etag));
  res.set_header("Cache-Control", "no-cache");
  if (etag_matches(req.get_header_value("If-None-Match"), file->etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(file->bytes.data(), file->bytes.size(), std::string(file->content_type));
}

// Relative URLs in index.html resolve against /ui/, never against /.
void redirect_to_index(const httplib::Request& req, httplib::Response& res, Context& context) {
  if (!context.deps.config.ui.enabled) return not_found(req, res);
  set_security_headers(res);
  res.status = 308;
  res.set_header("Location", "/ui/");
}

void get_index(const httplib::Request& req, httplib::Response& res, Context& context) {
  serve_file(req, res, context, "index.html");
}

void get_file(const httplib::Request& req, httplib::Response& res, Context& context) {
  serve_file(req, res, context, context.param("file"));
}

}  // namespace

void register_ui_routes(Router& router) {
  router.add({"GET", "/ui", Access::none, BodyKind::none, redirect_to_index});
  router.add({"GET", "/ui/", Access::none, BodyKind::none, get_index});
  router.add({"GET", "/ui/{file}", Access::none, BodyKind::none, get_file});
}

}  // namespace mailer::http
