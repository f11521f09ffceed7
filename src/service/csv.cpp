// CSV over libcsv. libcsv splits fields and undoes quoting; this file adds what
// an operator's error message needs: the line of each record (libcsv counts
// none), the header, equal field counts and UTF-8 checks.
//
// Input is fed to libcsv one physical line at a time, so when libcsv reports a
// field or a record end we know the line it happened on. A record that spans
// lines (a quoted line break) keeps the line where it started.

#include "mailer/service/csv.hpp"

#include <csv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <memory>
#include <unordered_set>

#include <fmt/format.h>

#include "mailer/core/text.hpp"

namespace mailer::service {
namespace {

constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";

// Owns an initialised csv_parser; csv_free releases its entry buffer.
class CsvParser {
 public:
  static constexpr std::size_t k_field_buffer_step_bytes = 64 * 1024;

  CsvParser() : m_ok(csv_init(&m_parser, CSV_STRICT | CSV_STRICT_FINI) == 0) {
    // RFC 4180 §2: "Spaces are considered part of a field and should not be
    // ignored." libcsv trims them unless told no character is a space.
    if (!m_ok) return;
    csv_set_space_func(&m_parser, [](unsigned char) { return 0; });
    // libcsv grows a field's buffer by blk_size (128 bytes by default) per
    // realloc: a 2 MiB field would take 16,000 reallocs, each a copy where
    // realloc cannot extend in place (ASan's allocator: 4 min for one test).
    csv_set_blk_size(&m_parser, k_field_buffer_step_bytes);
  }
  ~CsvParser() {
    if (m_ok) csv_free(&m_parser);
  }
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;
  bool ok() const { return m_ok; }
  csv_parser* get() { return &m_parser; }

 private:
  csv_parser m_parser{};
  bool m_ok;
};

// What the libcsv callbacks build up, one record at a time.
struct ParseState {
  CsvTable table;
  bool have_header = false;
  std::vector<std::string> record;
  int line = 0;         // line being fed
  int record_line = 0;  // line where the current record started
  bool record_ended = false;
  std::string error;  // first problem, without the "source: " prefix
};

void set_error(ParseState& state, std::string message) {
  if (state.error.empty()) state.error = std::move(message);
}

void on_field(void* data, std::size_t size, void* user) {
  auto& state = *static_cast<ParseState*>(user);
  std::string field(static_cast<const char*>(data), data ? size : 0);
  if (!text::utf8_length(field))
    set_error(state, fmt::format("line {}: field {} is not valid UTF-8", state.line, state.record.size() + 1));
  state.record.push_back(std::move(field));
}

// A set, not CsvTable::column per name: that is quadratic in the columns.
void check_header(ParseState& state) {
  const auto& header = state.table.header;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty())
      return set_error(state, fmt::format("line {}: column {} has no name", state.record_line, i + 1));
    if (!seen.insert(text::ascii_lower(header[i])).second)
      return set_error(state, fmt::format("line {}: column \"{}\" appears twice", state.record_line, header[i]));
  }
}

void on_record_end(int, void* user) {
  auto& state = *static_cast<ParseState*>(user);
  state.record_ended = true;
  std::vector<std::string> record = std::move(state.record);
  state.record.clear();
  if (!state.have_header) {
    state.table.header = std::move(record);
    state.have_header = true;
    return check_header(state);
  }
  if (record.size() != state.table.header.size())
    return set_error(state, fmt::format("line {}: expected {} fields as in the header, found {}", state.record_line,
                                        state.table.header.size(), record.size()));
  state.table.rows.push_back({state.record_line, std::move(record)});
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == '\r' || c == '\n'; });
}

// Feeds one physical line (with its LF, if it had one) to libcsv.
void feed_line(CsvParser& parser, ParseState& state, std::string_view line, bool& record_open) {
  ++state.line;
  if (!record_open) state.record_line = state.line;
  state.record_ended = false;
  std::size_t used = csv_parse(parser.get(), line.data(), line.size(), on_field, on_record_end, &state);
  if (used != line.size()) {
    if (csv_error(parser.get()) == CSV_EPARSE)
      return set_error(state, fmt::format("line {}: stray quote: a quoted field must be the whole field, and "
                                          "quotes inside it are doubled (\"\")",
                                          state.line));
    return set_error(state, fmt::format("line {}: {}", state.line, csv_strerror(csv_error(parser.get()))));
  }
  // libcsv reports a record's end at its line terminator, the end of this chunk.
  if (state.record_ended) record_open = false;
  else if (!blank(line)) record_open = true;
}

// std::getline with a bound: reads through the next LF (kept) or the end of
// input, but at most `max` bytes; false when nothing was left to read.
bool read_line(std::istream& in, std::string& line, std::size_t max) {
  line.clear();
  std::streambuf* buffer = in.rdbuf();
  while (line.size() < max) {
    int c = buffer->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return !line.empty();
    }
    line.push_back(static_cast<char>(c));
    if (c == '\n') return true;
  }
  return true;
}

Error located_error(const std::string& source_name, const std::string& message) {
  return make_error(ErrorCode::invalid_input, fmt::format("{}: {}", source_name, message));
}

}  // namespace

std::optional<std::size_t> CsvTable::column(std::string_view name) const {
  auto same = [&](const std::string& h) { return text::ascii_iequals(h, name); };
  auto it = std::find_if(header.begin(), header.end(), same);
  if (it == header.end()) return std::nullopt;
  return static_cast<std::size_t>(it - header.begin());
}

Result<CsvTable> read_csv(std::istream& in, const std::string& source_name) {
  CsvParser parser;
  if (!parser.ok()) return make_error(ErrorCode::internal, "cannot initialise the CSV parser");
  ParseState state;
  bool record_open = false;
  std::size_t record_bytes = 0;  // of the record being read, over its lines
  std::string line;
  // One byte past the bound tells a record at the bound from one over it.
  while (state.error.empty() && read_line(in, line, k_max_csv_record_bytes + 1 - record_bytes)) {
    if (state.line == 0 && line.starts_with(k_utf8_bom)) line.erase(0, k_utf8_bom.size());
    record_bytes += line.size();
    if (record_bytes > k_max_csv_record_bytes) {
      set_error(state, fmt::format("line {}: record is longer than {} bytes",
                                   record_open ? state.record_line : state.line + 1, k_max_csv_record_bytes));
      break;
    }
    feed_line(parser, state, line, record_open);
    if (!record_open) record_bytes = 0;
  }
  if (in.bad()) return located_error(source_name, "read error");
  if (state.error.empty() && csv_fini(parser.get(), on_field, on_record_end, &state) != 0)
    set_error(state, fmt::format("line {}: unterminated quoted field", state.record_line));
  if (!state.error.empty()) return located_error(source_name, state.error);
  if (!state.have_header) return located_error(source_name, "line 1: no header row (the file is empty)");
  return std::move(state.table);
}

Result<CsvTable> read_csv(const std::filesystem::path& path) {
  // A directory opens as a stream on Linux and fails only at the first read.
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    return located_error(path.string(), "is a directory, not a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return located_error(path.string(), fmt::format("cannot open: {}", std::strerror(errno)));
  return read_csv(in, path.string());
}

std::string csv_field(std::string_view value) {
  // NOTE: a leading U+FEFF is quoted too: unquoted at the start of a file,
  // read_csv would drop it as a byte order mark.
  bool needs_quotes = value.find_first_of(",\"\r\n") != std::string_view::npos ||
                      (!value.empty() && (value.front() == ' ' || value.back() == ' ')) ||
                      value.starts_with(k_utf8_bom);
  if (!needs_quotes) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_record(const std::vector<std::string>& values) {
  // One empty field alone would be an empty line, which read_csv skips.
  if (values.size() == 1 && values[0].empty()) return "\"\"\r\n";
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(values[i]);
  }
  out += "\r\n";
  return out;
}

}  // namespace mailer::service
