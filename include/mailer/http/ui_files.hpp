#pragma once
// The dashboard's files (ui/ in the source tree), compiled into the binary by
// cmake/embed_ui.cmake. Served by src/http/routes/ui.cpp.

#include <string_view>
#include <vector>

namespace mailer::http {

struct UiFile {
  std::string_view name;          // "app.js": ui/ is flat, so a name has no '/'
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, e.g. "\"3f2a…\"": the first 128 bits of the SHA-256
  std::string_view bytes;
};

/// Every file of ui/, sorted by name.
const std::vector<UiFile>& ui_files();

}  // namespace mailer::http
