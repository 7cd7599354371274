#include "codegen/write_files.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace unas::codegen {
namespace fs = std::filesystem;

absl::Status WriteFolder(const fs::path& dir, const std::map<std::string, std::string>& files) {
  const fs::path target = dir.lexically_normal();
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("not a folder name: ", dir.string()));
  }
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrCat(parent.string(), ": ", ec.message()));
  const fs::path temp = parent / absl::StrCat(".", name, ".tmp-", getpid());
  const fs::path old = parent / absl::StrCat(".", name, ".old-", getpid());
  fs::remove_all(temp, ec);
  auto fail = [&](const std::string& message) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    return absl::InternalError(message);
  };
  for (const auto& [relative, contents] : files) {
    const fs::path rel = fs::path(relative).lexically_normal();
    if (rel.empty() || rel.is_absolute() || *rel.begin() == "..") {
      return fail(absl::StrCat("refusing to write outside the folder: ", relative));
    }
    const fs::path path = temp / rel;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return fail(absl::StrCat(path.parent_path().string(), ": ", ec.message()));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) return fail(absl::StrCat("cannot write ", path.string()));
  }
  const bool existed = fs::exists(target, ec);
  if (existed) {
    fs::rename(target, old, ec);
    if (ec) return fail(absl::StrCat("cannot replace ", target.string(), ": ", ec.message()));
  }
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    if (existed) fs::rename(old, target, ignored);
    return fail(absl::StrCat("cannot create ", target.string(), ": ", ec.message()));
  }
  if (existed) fs::remove_all(old, ec);
  return absl::OkStatus();
}

}  // namespace unas::codegen
