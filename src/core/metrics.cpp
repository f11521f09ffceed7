#include "mailer/core/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mailer::metrics {

namespace {

bool is_name_char(char c, bool first, bool allow_colon) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline only (the format's rule for docstrings).
std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// `{a="x",b="y"}`, with `extra` (e.g. le="0.5") appended; empty when no labels.
std::string label_text(const std::vector<std::string>& names, const LabelValues& values, std::string_view extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", names[i], escape_label_value(values[i]));
  }
  if (!extra.empty()) out += fmt::format("{}{}", out.empty() ? "" : ",", extra);
  return out.empty() ? out : "{" + out + "}";
}

void append_sample(std::string& out, std::string_view name, const std::string& labels, double value) {
  fmt::format_to(std::back_inserter(out), "{}{} {}\n", name, labels, format_value(value));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) { return valid_name(name, false) && !name.starts_with("__"); }

// ---- Family ---------------------------------------------------------------------

Family::Family(std::string name, std::string help, std::vector<std::string> label_names)
    : m_name(std::move(name)), m_help(std::move(help)), m_label_names(std::move(label_names)) {
  if (!valid_metric_name(m_name)) throw std::invalid_argument("invalid metric name: " + m_name);
  for (const auto& label : m_label_names) {
    if (!valid_label_name(label)) throw std::invalid_argument(m_name + ": invalid label name: " + label);
  }
}

void Family::render(std::string& out) const {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", m_name, escape_help(m_help), m_name, type());
  render_samples(out);
}

void Family::check_labels(const LabelValues& labels) const {
  if (labels.size() != m_label_names.size()) {
    throw std::invalid_argument(
        fmt::format("{}: {} label values for {} labels", m_name, labels.size(), m_label_names.size()));
  }
}

// ---- Counter --------------------------------------------------------------------

void Counter::inc(const LabelValues& labels, double by) {
  check_labels(labels);
  if (!(by >= 0)) throw std::invalid_argument(name() + ": a counter cannot go down");
  std::scoped_lock lock(m_mutex);
  m_values[labels] += by;
}

double Counter::value(const LabelValues& labels) const {
  std::scoped_lock lock(m_mutex);
  auto found = m_values.find(labels);
  return found == m_values.end() ? 0 : found->second;
}

void Counter::render_samples(std::string& out) const {
  std::scoped_lock lock(m_mutex);
  // A family without labels has one series, shown from the start as 0.
  if (label_names().empty() && m_values.empty()) return append_sample(out, name(), "", 0);
  for (const auto& [labels, value] : m_values) append_sample(out, name(), label_text(label_names(), labels), value);
}

// ---- Gauge ----------------------------------------------------------------------

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names, Callback callback)
    : Family(std::move(name), std::move(help), std::move(label_names)), m_callback(std::move(callback)) {}

void Gauge::set(const LabelValues& labels, double value) {
  check_labels(labels);
  std::scoped_lock lock(m_mutex);
  m_values[labels] = value;
}

void Gauge::add(const LabelValues& labels, double delta) {
  check_labels(labels);
  std::scoped_lock lock(m_mutex);
  m_values[labels] += delta;
}

void Gauge::set_all(std::map<LabelValues, double> values) {
  for (const auto& [labels, value] : values) check_labels(labels);
  std::scoped_lock lock(m_mutex);
  m_values = std::move(values);
}

double Gauge::value(const LabelValues& labels) const {
  std::scoped_lock lock(m_mutex);
  auto found = m_values.find(labels);
  return found == m_values.end() ? 0 : found->second;
}

void Gauge::render_samples(std::string& out) const {
  std::map<LabelValues, double> values;
  {
    std::scoped_lock lock(m_mutex);
    values = m_values;
  }
  // The callback runs unlocked: it may be slow (a query) or touch other metrics.
  if (m_callback) {
    for (auto& sample : m_callback()) {
      check_labels(sample.labels);
      values[std::move(sample.labels)] = sample.value;
    }
  }
  if (label_names().empty() && values.empty()) return append_sample(out, name(), "", 0);
  for (const auto& [labels, value] : values) append_sample(out, name(), label_text(label_names(), labels), value);
}

// ---- Histogram ------------------------------------------------------------------

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> buckets)
    : Family(std::move(name), std::move(help), std::move(label_names)), m_bounds(std::move(buckets)) {
  for (const auto& label : this->label_names()) {
    if (label == "le") throw std::invalid_argument(this->name() + ": a histogram cannot have a label \"le\"");
  }
  for (std::size_t i = 0; i < m_bounds.size(); ++i) {
    if (!std::isfinite(m_bounds[i]) || (i > 0 && m_bounds[i] <= m_bounds[i - 1])) {
      throw std::invalid_argument(this->name() + ": buckets must be finite and strictly increasing");
    }
  }
}

void Histogram::observe(const LabelValues& labels, double value) {
  check_labels(labels);
  std::size_t bucket = 0;
  while (bucket < m_bounds.size() && value > m_bounds[bucket]) ++bucket;  // le: value <= bound
  std::scoped_lock lock(m_mutex);
  auto& series = m_series[labels];
  if (series.bucket_counts.empty()) series.bucket_counts.assign(m_bounds.size() + 1, 0);
  ++series.bucket_counts[bucket];
  series.sum += value;
  ++series.count;
}

std::uint64_t Histogram::count(const LabelValues& labels) const {
  std::scoped_lock lock(m_mutex);
  auto found = m_series.find(labels);
  return found == m_series.end() ? 0 : found->second.count;
}

double Histogram::sum(const LabelValues& labels) const {
  std::scoped_lock lock(m_mutex);
  auto found = m_series.find(labels);
  return found == m_series.end() ? 0 : found->second.sum;
}

void Histogram::render_samples(std::string& out) const {
  std::scoped_lock lock(m_mutex);
  auto render_series = [&](const LabelValues& labels, const Series* series) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= m_bounds.size(); ++i) {
      if (series) cumulative += series->bucket_counts[i];
      auto le = i < m_bounds.size() ? format_value(m_bounds[i]) : std::string("+Inf");
      append_sample(out, name() + "_bucket", label_text(label_names(), labels, "le=\"" + le + "\""),
                    static_cast<double>(cumulative));
    }
    append_sample(out, name() + "_sum", label_text(label_names(), labels), series ? series->sum : 0);
    append_sample(out, name() + "_count", label_text(label_names(), labels),
                  static_cast<double>(series ? series->count : 0));
  };
  if (label_names().empty() && m_series.empty()) return render_series({}, nullptr);
  for (const auto& [labels, series] : m_series) render_series(labels, &series);
}

// ---- Registry -------------------------------------------------------------------

template <typename T, typename... Args>
T& Registry::add(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                 Args&&... args) {
  std::scoped_lock lock(m_mutex);
  for (const auto& family : m_families) {
    if (family->name() != name) continue;
    auto* same = dynamic_cast<T*>(family.get());
    if (same == nullptr || same->label_names() != label_names) {
      throw std::invalid_argument("metric " + name + " registered twice with another type or labels");
    }
    return *same;
  }
  auto family = std::make_unique<T>(name, help, std::move(label_names), std::forward<Args>(args)...);
  auto& ref = *family;
  m_families.push_back(std::move(family));
  return ref;
}

Counter& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  return add<Counter>(name, help, std::move(label_names));
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  return add<Gauge>(name, help, std::move(label_names), Gauge::Callback{});
}

Gauge& Registry::gauge_callback(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                                Gauge::Callback callback) {
  return add<Gauge>(name, help, std::move(label_names), std::move(callback));
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                               std::vector<double> buckets) {
  return add<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

std::string Registry::render() const {
  std::vector<const Family*> families;
  {
    std::scoped_lock lock(m_mutex);
    for (const auto& family : m_families) families.push_back(family.get());
  }
  std::string out;
  for (const auto* family : families) family->render(out);
  return out;
}

}  // namespace mailer::metrics
