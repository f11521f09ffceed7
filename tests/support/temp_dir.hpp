#pragma once
// A fresh directory under $TMPDIR, removed with everything in it on destruction.

#include <filesystem>
#include <string>

namespace mailer::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::filesystem::path& child) const { return m_path / child; }

 private:
  std::filesystem::path m_path;
};

/// The whole file at `path` as bytes; "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// Replaces the file at `path` with `text`.
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace mailer::test
