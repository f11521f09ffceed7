// GET /u/{token} and POST /u/{token}: the links in List-Unsubscribe (SPEC §3, §4).
//
// RFC 8058 §3.2: mail clients POST "List-Unsubscribe=One-Click" to the URL
// with no cookie or credential, so the signed token alone identifies the
// message. GET must change nothing (link scanners and prefetchers follow
// links), so it only shows a page whose button POSTs. The routes take any body
// (BodyKind::none): one-click POSTs are application/x-www-form-urlencoded and
// some clients send none.
#include <httplib.h>

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/render/unsubscribe.hpp"
#include "mailer/service/feedback.hpp"

namespace mailer::http {

namespace {

constexpr const char* k_html = "text/html; charset=utf-8";

std::string page(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"robots\" content=\"noindex\"><title>" +
         title + "</title></head>\n<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">\n<h1>" +
         title + "</h1>\n" + body + "\n</body></html>\n";
}

Error invalid_link() { return make_error(ErrorCode::not_found, "this unsubscribe link is not valid"); }

void show_confirmation(const httplib::Request&, httplib::Response& res, Context& context) {
  // Checking the MAC reads nothing and writes nothing; a forged link gets a 404.
  if (!render::verify_unsubscribe_token(context.deps.config.unsubscribe.secret, context.param("token"))) {
    return write_problem(res, invalid_link());
  }
  // The form posts back to this same URL (an empty action), token included.
  auto body = page("Unsubscribe",
                   "<p>Stop receiving these emails? Messages you asked for, such as receipts, still arrive.</p>\n"
                   "<form method=\"post\" action=\"\">"
                   "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
                   "<button type=\"submit\">Unsubscribe</button></form>");
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, k_html);
}

bool is_one_click(const httplib::Request& req) {
  return req.body.find("List-Unsubscribe=One-Click") != std::string::npos;
}

void unsubscribe(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  service::FeedbackService feedback(**db, context.deps.clock, context.deps.config);
  auto done = feedback.unsubscribe(context.param("token"));
  if (!done) {
    if (done.error().code == ErrorCode::not_found) log::info("unsubscribe link refused");
    return write_problem(res, done.error());
  }
  log::info(done->already ? "unsubscribe repeated" : "unsubscribed", {{"message_id", done->message_id}});
  if (!done->already) metrics::count_suppression("unsubscribe");
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  if (is_one_click(req)) return res.set_content("unsubscribed\n", "text/plain; charset=utf-8");
  res.set_content(page("You are unsubscribed", "<p>You will not receive these emails any more.</p>"), k_html);
}

// RFC 8058 §3.1: the one-click POST body is "List-Unsubscribe=One-Click"
// (form-urlencoded or multipart/form-data); the confirmation form posts
// "confirm=yes". Either fits many times over; the route is public.
constexpr std::size_t k_max_unsubscribe_body_bytes = 4 * 1024;

}  // namespace

void register_unsubscribe_routes(Router& router) {
  router.add({"GET", "/u/{token}", Access::none, BodyKind::none, show_confirmation});
  router.add({"POST", "/u/{token}", Access::none, BodyKind::none, unsubscribe, Idempotency::none,
              k_max_unsubscribe_body_bytes});
}

}  // namespace mailer::http
