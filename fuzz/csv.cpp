// The CSV reader (src/service/csv.cpp) behind `mailerctl send --recipients`
// and `suppressions import`. Besides crashes, checks the writer against the
// reader: rows read, written back with csv_record and read again come back
// equal (what `suppressions export | import` relies on).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "mailer/service/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto table = mailer::service::read_csv(in, "fuzz.csv");
  if (!table) return 0;
  std::string written = mailer::service::csv_record(table->header);
  for (const auto& row : table->rows) written += mailer::service::csv_record(row.fields);
  std::istringstream again_in(written);
  auto again = mailer::service::read_csv(again_in, "again.csv");
  if (!again || again->header != table->header || again->rows.size() != table->rows.size()) std::abort();
  for (std::size_t i = 0; i < table->rows.size(); ++i) {
    if (again->rows[i].fields != table->rows[i].fields) std::abort();
  }
  return 0;
}
