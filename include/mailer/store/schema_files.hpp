#pragma once
// The schema/NNNN_name.sql migrations, embedded at build time by
// cmake/embed_schema.cmake, in file-name (= application) order.

#include <string_view>
#include <vector>

namespace mailer::store {

struct SchemaFile {
  std::string_view name;  // "0001_init.sql"; the leading number is the schema version
  std::string_view sql;
};

const std::vector<SchemaFile>& schema_files();

}  // namespace mailer::store
