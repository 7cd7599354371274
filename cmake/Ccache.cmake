# Uses ccache for every compilation when it is installed. The sloppiness
# settings let ccache cache files built with precompiled headers; the base
# directory makes paths relative, so a fresh clone elsewhere (CI) hits the
# cache filled by another one (the build folder is not hashed either, so
# debug info may name the clone that filled the cache).
find_program(UNAS_CCACHE ccache)
if(UNAS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}" "CCACHE_NOHASHDIR=true"
      ${UNAS_CCACHE})
  message(STATUS "ccache: ${UNAS_CCACHE}")
endif()
