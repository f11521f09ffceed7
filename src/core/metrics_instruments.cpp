// mailerd's own instruments on the process-wide registry (see metrics.hpp for
// why it is a global). All families are registered at first use of global(),
// so a scrape right after start shows every name, with the outcome and reason
// series at 0 (rate() over a series that appears late misses its first step).

#include <array>
#include <map>
#include <string>

#include "mailer/core/metrics.hpp"

namespace mailer::metrics {

namespace {

struct Instruments {
  Counter& http_requests;
  Histogram& http_duration;
  Counter& ses_requests;
  Counter& ses_errors;
  Histogram& ses_duration;
  Counter& messages;
  Counter& suppressions;
  Counter& sns_notifications;
  Gauge& http_connections_open;
  Counter& http_connections_closed_early;
  Counter& template_cache;
  Gauge& sending_on_hold;
  Counter& sending_holds;
  Gauge& storage_on_hold;
  Counter& storage_holds;
  Counter& webhook_deliveries;
  Histogram& webhook_duration;
  Counter& webhook_disabled;
  Counter& http_rate_limited;
  Counter& guard_pauses;
  Counter& pruned_rows;
  Gauge& prune_last;
  Counter& vacuumed_bytes;
  Gauge& table_rows;
  Gauge& oldest_row;
  Gauge& stats_time;
};

constexpr std::array k_outcomes{"sent", "retry", "failed", "suppressed", "cancelled"};
constexpr std::array k_hold_reasons{"ses_unavailable", "ses_credentials"};
constexpr std::array k_suppression_reasons{"bounce", "complaint", "unsubscribe", "manual", "soft_bounce"};
constexpr std::array k_connection_cut_reasons{"header_timeout", "header_too_large", "body_timeout",
                                              "body_too_large", "response_timeout", "refused"};
constexpr std::array k_template_cache_results{"hit", "miss"};
// store::prune_kinds(), by name (core sees no store type).
constexpr std::array k_prune_kinds{"message_content", "messages",        "dlq", "events", "api_key_audit",
                                   "sns_messages",    "idempotency_keys"};

// Labels copied from outside (a request's method, an unauthenticated SNS
// envelope's Type, an SES error type) are mapped onto known sets: a label
// value taken verbatim lets any client add series without limit.
constexpr std::string_view k_other = "other";
constexpr std::array k_http_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
// SNS message types, then SES notification and event types
// (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html,
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html).
constexpr std::array k_sns_types{"Notification",
                                 "SubscriptionConfirmation",
                                 "UnsubscribeConfirmation",
                                 "Bounce",
                                 "Complaint",
                                 "Delivery",
                                 "Send",
                                 "Reject",
                                 "Open",
                                 "Click",
                                 "DeliveryDelay",
                                 "Rendering Failure",
                                 "Subscription",
                                 "unknown"};
// SES v2 and AWS common error types
// (https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html),
// plus mailerd's own MalformedResponse and HTTPnnn, and no_answer for a call
// that failed before SES answered (network, timeout, credentials).
constexpr std::array k_ses_error_codes{"no_answer",
                                       "AccessDeniedException",
                                       "AccountSuspendedException",
                                       "BadRequestException",
                                       "ExpiredTokenException",
                                       "IncompleteSignature",
                                       "InternalFailure",
                                       "InvalidClientTokenId",
                                       "InvalidParameterValue",
                                       "LimitExceededException",
                                       "MailFromDomainNotVerifiedException",
                                       "MalformedResponse",
                                       "MessageRejected",
                                       "NotFoundException",
                                       "RequestExpired",
                                       "SendingPausedException",
                                       "ServiceUnavailable",
                                       "SignatureDoesNotMatch",
                                       "ThrottlingException",
                                       "TooManyRequestsException",
                                       "UnrecognizedClientException"};

template <std::size_t N>
std::string known_or_other(std::string_view value, const std::array<const char*, N>& known) {
  for (std::string_view candidate : known) {
    if (value == candidate) return std::string(value);
  }
  return std::string(k_other);
}

// mailerd's own "HTTP" + status for an answer without an error type.
std::string ses_code_label(std::string_view code) {
  bool http_status = code.size() == 7 && code.substr(0, 4) == "HTTP" &&
                     code.find_first_not_of("0123456789", 4) == std::string_view::npos;
  return http_status ? std::string(code) : known_or_other(code, k_ses_error_codes);
}

Instruments make_instruments(Registry& registry) {
  registry.gauge("mailer_build_info", "mailerd build; the value is always 1.", {"version"}).set({MAILER_VERSION}, 1);
  Instruments instruments{
      registry.counter("mailer_http_requests_total", "HTTP requests answered, by route pattern and status class.",
                       {"method", "route", "status_class"}),
      registry.histogram("mailer_http_request_duration_seconds",
                         "Time from reading an HTTP request to writing its response.", {"method", "route"}),
      registry.counter("mailer_ses_requests_total", "SES API calls by operation and result (ok or mailerd error code).",
                       {"operation", "result"}),
      registry.counter("mailer_ses_errors_total",
                       "Failed SES API calls by operation and SES error type (no_answer: SES did not answer).",
                       {"operation", "code"}),
      registry.histogram("mailer_ses_request_duration_seconds", "Duration of SES API calls.", {"operation"}),
      registry.counter("mailer_messages_total",
                       "Message outcomes committed: sent, retry, failed (dead-lettered), suppressed, cancelled.",
                       {"outcome"}),
      registry.counter("mailer_suppressions_total", "Addresses added to the suppression list, by reason.", {"reason"}),
      registry.counter("mailer_sns_notifications_total", "SNS messages received at /webhooks/ses, by type and verdict.",
                       {"type", "verdict"}),
      registry.gauge("mailer_http_connections_open", "HTTP connections open now."),
      registry.counter("mailer_http_connections_closed_early_total",
                       "HTTP connections mailerd closed because a client was too slow or sent too much, "
                       "or refused at server.max_connections.",
                       {"reason"}),
      registry.counter("mailer_template_cache_total", "Compiled-template lookups by result: hit, or miss (compiled).",
                       {"result"}),
      registry.gauge("mailer_sending_on_hold",
                     "1 while the job engine holds sending because SES is unreachable or refuses the credentials.",
                     {"reason"}),
      registry.counter("mailer_sending_holds_total", "Times sending went on hold, by reason.", {"reason"}),
      registry.gauge("mailer_storage_on_hold",
                     "1 while the job engine cannot commit to the database and holds outcomes in memory."),
      registry.counter("mailer_storage_holds_total", "Times the job engine could not commit to the database."),
      registry.counter("mailer_webhook_deliveries_total",
                       "Webhook attempts by endpoint and outcome: delivered, retry (failed, tried again), "
                       "failed (given up).",
                       {"endpoint", "outcome"}),
      registry.histogram("mailer_webhook_request_duration_seconds", "Duration of webhook requests.", {"endpoint"}),
      registry.counter("mailer_webhook_endpoints_disabled_total",
                       "Webhook endpoints disabled because every attempt failed for webhooks.disable_after_hours.",
                       {"endpoint"}),
      registry.counter("mailer_http_rate_limited_total",
                       "API requests refused with 429 because their key passed api.rate_limit_per_second."),
      registry.counter("mailer_guard_pauses_total", "Batches the reputation guard paused since mailerd started."),
      registry.counter("mailer_db_pruned_rows_total",
                       "Rows removed by retention, by kind (message_content: messages whose content was cleared).",
                       {"kind"}),
      registry.gauge("mailer_db_prune_last_timestamp_seconds", "Unix time the last prune pass finished; 0 before any."),
      registry.counter("mailer_db_vacuumed_bytes_total",
                       "Bytes of free pages incremental vacuum returned to the filesystem."),
      registry.gauge("mailer_db_rows", "Rows per table, as counted at mailer_db_stats_timestamp_seconds.", {"table"}),
      registry.gauge("mailer_db_oldest_row_timestamp_seconds",
                     "Unix time of the oldest row of each kind retention prunes, as read at "
                     "mailer_db_stats_timestamp_seconds; absent when the kind has no row.",
                     {"kind"}),
      registry.gauge("mailer_db_stats_timestamp_seconds",
                     "Unix time mailer_db_rows and mailer_db_oldest_row_timestamp_seconds were read; 0 before "
                     "the first read."),
  };
  for (const char* outcome : k_outcomes) instruments.messages.inc({outcome}, 0);
  for (const char* reason : k_suppression_reasons) instruments.suppressions.inc({reason}, 0);
  instruments.http_connections_open.set(0);
  for (const char* reason : k_connection_cut_reasons) instruments.http_connections_closed_early.inc({reason}, 0);
  for (const char* result : k_template_cache_results) instruments.template_cache.inc({result}, 0);
  for (const char* reason : k_hold_reasons) {
    instruments.sending_on_hold.set({reason}, 0);
    instruments.sending_holds.inc({reason}, 0);
  }
  instruments.storage_on_hold.set(0);
  instruments.storage_holds.inc({}, 0);
  instruments.http_rate_limited.inc({}, 0);
  instruments.guard_pauses.inc({}, 0);
  for (const char* kind : k_prune_kinds) instruments.pruned_rows.inc({kind}, 0);
  instruments.prune_last.set(0);
  instruments.vacuumed_bytes.inc({}, 0);
  instruments.stats_time.set(0);
  return instruments;
}

Registry& registry_instance() {
  static Registry registry;
  return registry;
}

Instruments& instruments() {
  static Instruments instance = make_instruments(registry_instance());
  return instance;
}

}  // namespace

Registry& global() {
  instruments();  // every family registered before the first render
  return registry_instance();
}

std::string status_class(int status) {
  if (status < 100 || status > 599) return "other";
  return std::to_string(status / 100) + "xx";
}

void observe_http_request(std::string_view method, std::string_view route, int status,
                          std::chrono::duration<double> elapsed) {
  std::string route_label = route.empty() ? "unmatched" : std::string(route);
  auto& all = instruments();
  auto method_label = known_or_other(method, k_http_methods);
  all.http_requests.inc({method_label, route_label, status_class(status)});
  all.http_duration.observe({method_label, route_label}, elapsed);
}

void observe_ses_request(std::string_view operation, const Error* error, std::chrono::duration<double> elapsed) {
  std::string result = error ? std::string(to_string(error->code)) : "ok";
  auto& all = instruments();
  all.ses_requests.inc({std::string(operation), result});
  if (error) {
    all.ses_errors.inc(
        {std::string(operation), ses_code_label(error->upstream_code.empty() ? "no_answer" : error->upstream_code)});
  }
  all.ses_duration.observe({std::string(operation)}, elapsed);
}

void count_message(std::string_view outcome) { instruments().messages.inc({std::string(outcome)}); }

void count_suppression(std::string_view reason) { instruments().suppressions.inc({std::string(reason)}); }

void count_sns_notification(std::string_view type, std::string_view verdict) {
  instruments().sns_notifications.inc({known_or_other(type, k_sns_types), std::string(verdict)});
}

void add_http_connections(int delta) { instruments().http_connections_open.add({}, delta); }

void count_http_connection_closed_early(std::string_view reason) {
  instruments().http_connections_closed_early.inc({std::string(reason)});
}

void count_template_cache_lookup(std::string_view result) { instruments().template_cache.inc({std::string(result)}); }

void set_sending_hold(std::string_view reason) {
  auto& all = instruments();
  for (const char* known : k_hold_reasons) all.sending_on_hold.set({known}, reason == known ? 1 : 0);
  if (!reason.empty()) all.sending_holds.inc({std::string(reason)});
}

void count_webhook_attempt(std::string_view endpoint, std::string_view outcome, std::chrono::duration<double> elapsed) {
  auto& all = instruments();
  all.webhook_deliveries.inc({std::string(endpoint), std::string(outcome)});
  all.webhook_duration.observe({std::string(endpoint)}, elapsed);
}

void count_webhook_endpoint_disabled(std::string_view endpoint) {
  instruments().webhook_disabled.inc({std::string(endpoint)});
}

void declare_webhook_endpoint(std::string_view endpoint) {
  instruments().webhook_disabled.inc({std::string(endpoint)}, 0);
}

void count_http_rate_limited() { instruments().http_rate_limited.inc(); }

void count_guard_pause() { instruments().guard_pauses.inc(); }

void set_storage_hold(bool on_hold) {
  auto& all = instruments();
  all.storage_on_hold.set(on_hold ? 1 : 0);
  if (on_hold) all.storage_holds.inc();
}

void count_pruned(std::string_view kind, std::int64_t rows) {
  instruments().pruned_rows.inc({known_or_other(kind, k_prune_kinds)}, static_cast<double>(rows));
}

void set_prune_finished(double unix_seconds) { instruments().prune_last.set(unix_seconds); }

void count_vacuumed(double bytes) { instruments().vacuumed_bytes.inc({}, bytes); }

void set_table_stats(const std::map<std::string, double>& rows, const std::map<std::string, double>& oldest,
                     double read_at_seconds) {
  auto by_label = [](const std::map<std::string, double>& values) {
    std::map<LabelValues, double> out;
    for (const auto& [label, value] : values) out[{label}] = value;
    return out;
  };
  auto& all = instruments();
  all.table_rows.set_all(by_label(rows));
  all.oldest_row.set_all(by_label(oldest));
  all.stats_time.set(read_at_seconds);
}

}  // namespace mailer::metrics
