#pragma once
// Metrics: a small thread-safe registry of counters, gauges and histograms,
// rendered in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Hand-written rather than prometheus-cpp: the format is a few lines of text,
// and Debian 12 has no prometheus-cpp package, so this keeps mailerd's
// dependencies to the list in SPEC §1.
//
// A metric is a family: a name, a help text, label names, and one value (or
// histogram) per combination of label values. Families live as long as their
// Registry, so references returned by Registry stay valid.
//
// mailerd's own instruments (the free functions at the end) write to one
// process-wide registry, global(). NOTE: a global on purpose: the counted
// events happen deep inside the job engine, the server and the store, whose
// constructors are shared by every layer; threading a Registry& through all
// of them would change many signatures for no gain in testability, since the
// Registry class itself is tested on its own instances.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::metrics {

/// Values for a family's labels, in the order of its label names.
using LabelValues = std::vector<std::string>;

/// One sample of a callback gauge: label values and value.
struct Sample {
  LabelValues labels;
  double value = 0;
};

/// Buckets (upper bounds, seconds) for request durations: 5 ms to 10 s.
inline const std::vector<double> k_duration_buckets_seconds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return m_name; }
  const std::vector<std::string>& label_names() const { return m_label_names; }
  virtual std::string_view type() const = 0;
  /// Appends "# HELP", "# TYPE" and every sample line to `out`.
  void render(std::string& out) const;

 protected:
  /// Appends the sample lines only.
  virtual void render_samples(std::string& out) const = 0;
  /// Throws std::invalid_argument when `labels` has the wrong count (a bug).
  void check_labels(const LabelValues& labels) const;

  mutable std::mutex m_mutex;

 private:
  std::string m_name;
  std::string m_help;
  std::vector<std::string> m_label_names;
};

/// A value that only goes up (name ends in `_total`).
class Counter final : public Family {
 public:
  using Family::Family;
  std::string_view type() const override { return "counter"; }
  /// Adds `by` (>= 0; negative throws std::invalid_argument) to the series `labels`.
  void inc(const LabelValues& labels = {}, double by = 1);
  /// The current value of `labels`; 0 when never incremented.
  double value(const LabelValues& labels = {}) const;

 private:
  void render_samples(std::string& out) const override;
  std::map<LabelValues, double> m_values;
};

/// A value that goes up and down: set by code, or read from a callback at render.
class Gauge final : public Family {
 public:
  using Callback = std::function<std::vector<Sample>()>;
  Gauge(std::string name, std::string help, std::vector<std::string> label_names, Callback callback = {});
  std::string_view type() const override { return "gauge"; }
  void set(const LabelValues& labels, double value);
  void set(double value) { set({}, value); }
  void add(const LabelValues& labels, double delta);
  /// Replaces every series at once with `values`, so a scrape sees the old
  /// set or the new one, never half of each.
  void set_all(std::map<LabelValues, double> values);
  /// The stored value of `labels` (callbacks are not consulted); 0 when unset.
  double value(const LabelValues& labels = {}) const;

 private:
  void render_samples(std::string& out) const override;
  std::map<LabelValues, double> m_values;
  Callback m_callback;
};

/// Observations counted into fixed cumulative buckets, plus their sum and count.
class Histogram final : public Family {
 public:
  /// `buckets`: strictly increasing finite upper bounds; "+Inf" is implied.
  /// Throws std::invalid_argument otherwise.
  Histogram(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> buckets);
  std::string_view type() const override { return "histogram"; }
  void observe(const LabelValues& labels, double value);
  void observe(const LabelValues& labels, std::chrono::duration<double> elapsed) { observe(labels, elapsed.count()); }
  /// How many observations `labels` has; 0 when none.
  std::uint64_t count(const LabelValues& labels = {}) const;
  double sum(const LabelValues& labels = {}) const;

 private:
  struct Series {
    std::vector<std::uint64_t> bucket_counts;  // not cumulative; one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  void render_samples(std::string& out) const override;
  std::vector<double> m_bounds;
  std::map<LabelValues, Series> m_series;
};

/// Families by name, rendered in registration order. Thread-safe.
///
/// Registering a name again with the same type and label names returns the
/// existing family; with another type or labels, or a name or label name
/// that Prometheus rejects, it throws std::invalid_argument (a bug).
/// **Example**
///   auto& sent = registry.counter("mailer_messages_total", "Messages by outcome.", {"outcome"});
///   sent.inc({"sent"});
///   registry.render();  // "# HELP mailer_messages_total ...\nmailer_messages_total{outcome=\"sent\"} 1\n"
class Registry {
 public:
  Counter& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Gauge& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  /// A gauge whose samples come from `callback` at each render (called
  /// without the registry's lock held on other families).
  Gauge& gauge_callback(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                        Gauge::Callback callback);
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                       std::vector<double> buckets = k_duration_buckets_seconds);

  /// Every family in the text format 0.0.4 (Content-Type
  /// `text/plain; version=0.0.4; charset=utf-8`), ending in a newline.
  std::string render() const;

 private:
  template <typename T, typename... Args>
  T& add(const std::string& name, const std::string& help, std::vector<std::string> label_names, Args&&... args);

  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<Family>> m_families;
};

/// The Content-Type of render()'s output.
inline constexpr const char* k_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// `value` escaped for a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);
/// `value` as the format writes numbers: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_value(double value);
/// True when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name);
/// True when `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__".
bool valid_label_name(std::string_view name);

// ---- mailerd's instruments -------------------------------------------------------
//
// Names (all on global()):
//   mailer_build_info{version}                                   gauge, always 1
//   mailer_http_requests_total{method,route,status_class}        counter
//   mailer_http_request_duration_seconds{method,route}           histogram
//   mailer_ses_requests_total{operation,result}                  counter
//   mailer_ses_errors_total{operation,code}                      counter
//   mailer_ses_request_duration_seconds{operation}               histogram
//   mailer_messages_total{outcome}                               counter
//   mailer_suppressions_total{reason}                            counter
//   mailer_sns_notifications_total{type,verdict}                 counter
//   mailer_http_connections_open                                 gauge
//   mailer_http_connections_closed_early_total{reason}           counter
//   mailer_template_cache_total{result}                          counter
//   mailer_sending_on_hold{reason}                               gauge, 1 while on hold
//   mailer_sending_holds_total{reason}                           counter
//   mailer_storage_on_hold                                       gauge, 1 while on hold
//   mailer_storage_holds_total                                   counter
//   mailer_webhook_deliveries_total{endpoint,outcome}            counter
//   mailer_webhook_request_duration_seconds{endpoint}            histogram
//   mailer_webhook_endpoints_disabled_total{endpoint}            counter
//   mailer_http_rate_limited_total                               counter
//   mailer_guard_pauses_total                                    counter
//   mailer_db_pruned_rows_total{kind}                            counter
//   mailer_db_prune_last_timestamp_seconds                       gauge
//   mailer_db_vacuumed_bytes_total                               counter
//   mailer_db_rows{table}                                        gauge, cached
//   mailer_db_oldest_row_timestamp_seconds{kind}                 gauge, cached
//   mailer_db_stats_timestamp_seconds                            gauge
// Gauges read at scrape time (queue, DLQ, in flight, send rate, SES account,
// guard, events, database files, process_*) are rendered by the /metrics
// route (src/http/routes/metrics.cpp, src/http/routes/metrics_gauges.cpp).

/// The process-wide registry holding mailerd's instruments (registered on
/// first use, with the known label values of outcomes and reasons at 0).
Registry& global();

/// One HTTP request answered. `route`: the matched pattern ("/v1/batches/{id}"),
/// or empty when none matched (recorded as "unmatched", so paths never become
/// labels); `status`: e.g. 404, recorded as status_class "4xx". A method
/// outside GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS is recorded as "other".
void observe_http_request(std::string_view method, std::string_view route, int status,
                          std::chrono::duration<double> elapsed);

/// One SES API call. `operation`: "SendEmail", "GetAccount"; `error`: null on
/// success (result "ok"), else result is to_string(error->code) and the call
/// is also counted in mailer_ses_errors_total with code SES's error type
/// (error->upstream_code), or "no_answer" when the call failed before SES
/// answered. An error type outside the documented SES and AWS common errors
/// (and mailerd's "HTTPnnn", "MalformedResponse") is recorded as "other".
void observe_ses_request(std::string_view operation, const Error* error, std::chrono::duration<double> elapsed);

/// One message outcome committed: "sent", "retry", "failed" (DLQ),
/// "suppressed", "cancelled".
void count_message(std::string_view outcome);

/// One address newly suppressed (or its reason changed): "bounce",
/// "complaint", "unsubscribe", "manual", "soft_bounce".
void count_suppression(std::string_view reason);

/// One SNS message handled at POST /webhooks/ses. `type`: the SES
/// notificationType ("Bounce", "Complaint", "Delivery") or the SNS Type
/// ("SubscriptionConfirmation", "UnsubscribeConfirmation"); `verdict`:
/// "accepted", "duplicate", "ignored" (unknown topic/type) or "rejected"
/// (bad signature or malformed). A type outside the SNS and SES ones mailerd
/// knows is recorded as "other" (the envelope is unauthenticated when counted).
void count_sns_notification(std::string_view type, std::string_view verdict);

/// HTTP connections opened (`delta` 1) or closed (-1).
void add_http_connections(int delta);

/// One HTTP connection closed by mailerd before its client was done:
/// "header_timeout", "body_timeout", "response_timeout" (its
/// server.*_timeout_seconds passed), "header_too_large" (64 KiB of request
/// line and headers), "body_too_large" (body framing far over
/// server.max_body_bytes), or "refused" (server.max_connections open already).
void count_http_connection_closed_early(std::string_view reason);

/// One compiled-template lookup (render::TemplateCache): `result` "hit", or
/// "miss" (the template was compiled).
void count_template_cache_lookup(std::string_view result);

/// The job engine put sending on hold because of `reason` ("ses_unavailable",
/// "ses_credentials"; see jobs::CircuitBreaker), or resumed it when `reason`
/// is empty. Call on changes only: each hold is counted once.
void set_sending_hold(std::string_view reason);

/// The job engine could not commit outcomes and holds them in memory (true),
/// or recorded them (false). Call on changes only: each hold is counted once.
void set_storage_hold(bool on_hold);

/// One webhook attempt to endpoint `endpoint` (an id "whk_…": endpoints are
/// few, created by an admin) with `outcome` "delivered", "retry" (failed, to
/// be tried again) or "failed" (given up), taking `elapsed`.
void count_webhook_attempt(std::string_view endpoint, std::string_view outcome, std::chrono::duration<double> elapsed);

/// Endpoint `endpoint` was disabled because its attempts kept failing.
void count_webhook_endpoint_disabled(std::string_view endpoint);

/// Shows `endpoint`'s mailer_webhook_endpoints_disabled_total at 0 before its
/// first disable, so increase() alerts see that first one too.
void declare_webhook_endpoint(std::string_view endpoint);

/// One API request refused with 429 by the per-key rate limit.
void count_http_rate_limited();

/// The reputation guard paused a batch.
void count_guard_pause();

/// `rows` rows of prune kind `kind` ("message_content", "messages", "dlq",
/// "events", "api_key_audit", "sns_messages", "idempotency_keys"; anything
/// else is "other") were removed (content: cleared).
void count_pruned(std::string_view kind, std::int64_t rows);

/// A prune pass finished at `unix_seconds`.
void set_prune_finished(double unix_seconds);

/// Incremental vacuum gave `bytes` back to the filesystem.
void count_vacuumed(double bytes);

/// The row count of each table and the Unix time (seconds) of the oldest row
/// of each prune kind that has one, as read at `read_at_seconds`: counting
/// rows costs O(rows), so the pruner reads them after each pass and /metrics
/// shows this copy with its age. Replaces the previous figures.
void set_table_stats(const std::map<std::string, double>& rows, const std::map<std::string, double>& oldest,
                     double read_at_seconds);

/// Adds the standard process metrics of the running process to `registry`
/// (meant for a per-scrape registry): process_cpu_seconds_total,
/// process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_open_fds, process_max_fds, process_start_time_seconds, read from
/// /proc/self (Linux). A figure that cannot be read is 0; never throws.
void add_process_metrics(Registry& registry);

/// "2xx" for 200..299 and so on; "other" outside 100..599.
std::string status_class(int status);

}  // namespace mailer::metrics
