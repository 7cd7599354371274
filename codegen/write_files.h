// Writes a set of generated files as one folder, all or nothing: into a
// temporary sibling first, renamed into place at the end, so a failure never
// leaves a half-written export behind.
#ifndef UNAS_CODEGEN_WRITE_FILES_H_
#define UNAS_CODEGEN_WRITE_FILES_H_

#include <filesystem>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace unas::codegen {

// Replaces `dir` (if it exists) by a folder holding exactly `files` (paths
// relative to it; no "..", not absolute).
absl::Status WriteFolder(const std::filesystem::path& dir,
                         const std::map<std::string, std::string>& files);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_WRITE_FILES_H_
