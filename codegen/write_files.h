// Writes a set of generated files as one folder: into a temporary sibling
// first, then renamed into place, so a failure while writing leaves nothing
// behind and a reader never sees a half-written file or subfolder.
#ifndef UNAS_CODEGEN_WRITE_FILES_H_
#define UNAS_CODEGEN_WRITE_FILES_H_

#include <filesystem>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace unas::codegen {

// Writes `files` (paths relative to `dir`; no "..", not absolute) under
// `dir`. A new `dir` appears whole; in an existing one each top-level entry
// written (a file or a whole subfolder such as "c/") replaces the one of the
// same name, and everything else there is left alone.
absl::Status WriteFolder(const std::filesystem::path& dir,
                         const std::map<std::string, std::string>& files);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_WRITE_FILES_H_
