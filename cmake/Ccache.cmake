# Uses ccache for every compilation when it is installed. The sloppiness
# settings let ccache cache files built with precompiled headers.
find_program(UNAS_CCACHE ccache)
if(UNAS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${UNAS_CCACHE})
  message(STATUS "ccache: ${UNAS_CCACHE}")
endif()
