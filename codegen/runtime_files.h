// The fixed files of every generated C project (codegen/runtime/, embedded
// at build time): kernels, host driver, Makefile, Cortex-M4 start-up.
#ifndef UNAS_CODEGEN_RUNTIME_FILES_H_
#define UNAS_CODEGEN_RUNTIME_FILES_H_

#include <span>
#include <string_view>

namespace unas::codegen {

struct RuntimeFile {
  std::string_view path;  // relative to the project folder
  std::string_view contents;
};

std::span<const RuntimeFile> RuntimeFiles();

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_RUNTIME_FILES_H_
