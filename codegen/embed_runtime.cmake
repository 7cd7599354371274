# Writes runtime_files.cc: every file under codegen/runtime/ as a string.
# Run as: cmake -DRUNTIME_DIR=... -DOUTPUT=... -P embed_runtime.cmake
file(GLOB_RECURSE files RELATIVE ${RUNTIME_DIR} ${RUNTIME_DIR}/*)
list(SORT files)
set(body "")
foreach(file IN LISTS files)
  file(READ ${RUNTIME_DIR}/${file} contents)
  string(APPEND body "    {\"${file}\", R\"unas_runtime(${contents})unas_runtime\"},\n")
endforeach()
file(WRITE ${OUTPUT}.new
  "// Generated from codegen/runtime/ by embed_runtime.cmake.\n"
  "#include \"codegen/runtime_files.h\"\n\n"
  "namespace unas::codegen {\n\n"
  "std::span<const RuntimeFile> RuntimeFiles() {\n"
  "  static constexpr RuntimeFile kFiles[] = {\n${body}  };\n"
  "  return kFiles;\n}\n\n}  // namespace unas::codegen\n")
file(COPY_FILE ${OUTPUT}.new ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.new)
