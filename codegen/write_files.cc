#include "codegen/write_files.h"

#include <unistd.h>

#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace unas::codegen {
namespace fs = std::filesystem;

absl::Status WriteFolder(const fs::path& dir, const std::map<std::string, std::string>& files) {
  std::error_code ec;
  fs::path target = fs::absolute(dir, ec).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("not a folder name: ", dir.string()));
  }
  fs::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrCat(parent.string(), ": ", ec.message()));
  const fs::path temp = parent / absl::StrCat(".", name, ".tmp-", getpid());
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
  if (!fs::exists(target, ec)) {
    fs::rename(temp, target, ec);
    if (ec) return fail(absl::StrCat("cannot create ", target.string(), ": ", ec.message()));
    return absl::OkStatus();
  }
  if (!fs::is_directory(target, ec)) return fail(absl::StrCat(target.string(), " is not a folder"));
  std::vector<fs::path> written;
  for (const fs::directory_entry& entry : fs::directory_iterator(temp, ec)) {
    written.push_back(entry.path());
  }
  for (const fs::path& entry : written) {
    const fs::path destination = target / entry.filename();
    const fs::path old = parent / absl::StrCat(".", name, ".old-", getpid());
    const bool replacing = fs::exists(destination, ec);
    if (replacing) fs::rename(destination, old, ec);
    if (!ec) fs::rename(entry, destination, ec);
    if (ec) return fail(absl::StrCat("cannot write ", destination.string(), ": ", ec.message()));
    if (replacing) fs::remove_all(old, ec);
  }
  fs::remove_all(temp, ec);
  return absl::OkStatus();
}

}  // namespace unas::codegen
