#pragma once
// Errors decided once for the whole service. The code says what the caller can
// do about a failure; retry policy, DLQ and HTTP status all follow from it
// (http::problem_for maps codes to statuses in one place).

#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mailer {

enum class ErrorCode {
  invalid_input,  // the caller sent something malformed: fix and resend
  unauthorized,   // no key, unknown key or revoked key
  forbidden,      // key lacks the scope
  not_found,
  conflict,             // state forbids it now (unique name, idempotency key reuse, busy template)
  too_large,            // body or recipient count over a configured limit
  unsupported_media,    // body is not JSON where JSON is required
  rate_limited,         // our own per-key limit
  upstream_throttled,   // SES said slow down: retry later without using an attempt
  upstream_transient,   // SES/network failed in a way a retry may fix
  upstream_permanent,   // SES refused this message for good: DLQ
  storage_unavailable,  // SQLite busy, locked, disk full: retry later
  internal,             // a bug
};

/// Stable snake_case name of `code`, e.g. "invalid_input"; used in logs and problem types.
std::string_view to_string(ErrorCode code);

/// One problem with one input field: `field` is a JSON-pointer-like path such as
/// "recipients[3].email" or a config key such as "worker.concurrency".
struct FieldError {
  std::string field;
  std::string message;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

/// The field errors of one Error, in the order found, of which only the first
/// k_max_kept are kept: the rest are counted (`omitted`). Every problem answer and
/// CLI report lists these, so one request with a million bad entries makes a
/// small answer, and the list is bounded while it is collected, not when written.
class FieldErrors {
 public:
  static constexpr std::size_t k_max_kept = 100;
  using const_iterator = std::vector<FieldError>::const_iterator;
  using iterator = std::vector<FieldError>::iterator;

  FieldErrors() = default;
  FieldErrors(std::initializer_list<FieldError> errors) {
    for (const auto& error : errors) push_back(error);
  }
  FieldErrors(std::vector<FieldError> errors) {  // NOLINT: implicit by design
    for (auto& error : errors) push_back(std::move(error));
  }

  void push_back(FieldError error) {
    if (m_kept.size() < k_max_kept) m_kept.push_back(std::move(error));
    else ++m_omitted;
  }
  /// Appends `other`'s kept entries, and counts its omitted ones as omitted
  /// here, so a list gathered apart keeps its "N more errors" count.
  void append(FieldErrors other) {
    for (auto& error : other.m_kept) push_back(std::move(error));
    m_omitted += other.m_omitted;
  }
  /// True once k_max_kept are kept: a caller may skip building further messages.
  bool full() const noexcept { return m_kept.size() >= k_max_kept; }
  bool empty() const noexcept { return m_kept.empty(); }
  /// Kept entries only; total() counts the omitted ones too.
  std::size_t size() const noexcept { return m_kept.size(); }
  std::size_t total() const noexcept { return m_kept.size() + m_omitted; }
  std::size_t omitted() const noexcept { return m_omitted; }
  /// The entry listed after the kept ones when some were omitted:
  /// {"...", "N more errors not listed"}.
  std::optional<FieldError> omitted_note() const;

  const FieldError& operator[](std::size_t i) const { return m_kept[i]; }
  const FieldError& at(std::size_t i) const { return m_kept.at(i); }
  const_iterator begin() const noexcept { return m_kept.begin(); }
  const_iterator end() const noexcept { return m_kept.end(); }
  iterator begin() noexcept { return m_kept.begin(); }
  iterator end() noexcept { return m_kept.end(); }

  friend bool operator==(const FieldErrors&, const FieldErrors&) = default;
  friend bool operator==(const FieldErrors& a, const std::vector<FieldError>& b) {
    return a.m_omitted == 0 && a.m_kept == b;
  }

 private:
  std::vector<FieldError> m_kept;
  std::size_t m_omitted = 0;
};

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;           // human sentence, never a secret, SQL or stack trace
  FieldErrors fields{};         // per-field validation problems, may be empty
  std::string upstream_code{};  // e.g. SES "MessageRejected"; empty when not from upstream
};

inline Error make_error(ErrorCode code, std::string detail) { return Error{code, std::move(detail)}; }

/// Value or Error, like C++23 std::expected (not in g++ 12). `[[nodiscard]]` so an
/// ignored failure is a compiler warning (an error with -Werror).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_data(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : m_data(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return m_data.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(m_data);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(m_data);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(m_data));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(m_data);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(m_data));
  }

 private:
  std::variant<T, Error> m_data;
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)), m_ok(false) {}  // NOLINT: implicit by design
  bool has_value() const noexcept { return m_ok; }
  explicit operator bool() const noexcept { return m_ok; }
  const Error& error() const& {
    assert(!m_ok);
    return m_error;
  }
  Error&& error() && {
    assert(!m_ok);
    return std::move(m_error);
  }

 private:
  Error m_error{};
  bool m_ok = true;
};

using Status = Result<void>;

}  // namespace mailer
