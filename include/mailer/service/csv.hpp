#pragma once
// CSV files as mailerctl reads and writes them (`send --recipients`,
// `suppressions import|export`): RFC 4180 over Debian's libcsv.

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::service {

struct CsvRow {
  int line = 0;                     // 1-based physical line where the record starts
  std::vector<std::string> fields;  // exactly CsvTable::header.size() of them
};

/// A CSV file whose first record names the columns.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;  // data records in file order; empty lines skipped

  /// Index of the column named `name` (ASCII case-insensitive), if any.
  std::optional<std::size_t> column(std::string_view name) const;
};

/// Bytes one record (the header included) may take, over all its lines: a
/// recipient's variables are at most 1 MiB of JSON anyway, and the bound keeps
/// a file without line breaks from being read into memory whole.
inline constexpr std::size_t k_max_csv_record_bytes = 2 * 1024 * 1024;

/// Reads an RFC 4180 file with a header row: fields quoted with `"` may hold
/// commas, doubled quotes and line breaks; records end in CRLF or LF; a UTF-8
/// byte order mark is dropped; spaces are kept (they are data in RFC 4180);
/// empty lines are skipped. Every field must be valid UTF-8.
/// Errors: invalid_input whose detail leads with `source_name` and the line,
/// e.g. "recipients.csv: line 7: unterminated quoted field". Causes: no header,
/// an empty or repeated column name, a record with a different number of
/// fields than the header, a stray quote, an unterminated quote, bad UTF-8,
/// a record over k_max_csv_record_bytes ("line 3: record is longer than
/// 2097152 bytes", reading stops there).
Result<CsvTable> read_csv(std::istream& in, const std::string& source_name);
/// read_csv on the file at `path` (named by `path` as given in errors).
/// Errors: as above, plus invalid_input "<path>: cannot open: <reason>".
Result<CsvTable> read_csv(const std::filesystem::path& path);

/// One field quoted as RFC 4180 requires: wrapped in `"` (inner quotes
/// doubled) when it holds a comma, quote, CR or LF, starts or ends with a
/// space, or starts with a UTF-8 byte order mark; otherwise as is.
std::string csv_field(std::string_view value);
/// One record: csv_field of each value, comma-separated, ended by CRLF (RFC 4180 §2);
/// a record of one empty field is `""` so that it is not an empty line. read_csv
/// reads every record written so back as it was.
std::string csv_record(const std::vector<std::string>& values);

}  // namespace mailer::service
