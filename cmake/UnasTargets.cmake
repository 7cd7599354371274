# Helpers that give every target of ours the same flags, output folder and
# component tag. The component (the top-level folder a target is declared
# in) is what DependencyRules.cmake checks.

# -Wno-restrict: GCC 12 reports false -Wrestrict positives inside std::string at -O3 (GCC bug
# 105329), which would make Release builds fail under -Werror.
set(UNAS_WARNING_FLAGS -Wall -Wextra -Werror -Wno-restrict)

function(_unas_component out)
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REGEX REPLACE "/.*" "" top "${rel}")
  set(${out} "${top}" PARENT_SCOPE)
endfunction()

function(_unas_common_setup target)
  _unas_component(component)
  set_property(TARGET ${target} PROPERTY UNAS_COMPONENT "${component}")
  set_property(GLOBAL APPEND PROPERTY UNAS_TARGETS ${target})
endfunction()

# unas_library(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
function(unas_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${UNAS_WARNING_FLAGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  _unas_common_setup(${name})
endfunction()

# unas_executable(NAME SOURCES ... [DEPS ...])
function(unas_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${UNAS_WARNING_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  _unas_common_setup(${name})
endfunction()

# unas_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT seconds])
# One GoogleTest binary; CTest discovers its cases when the tests run
# (PRE_TEST), not at build time, so heavy binaries do not slow the build.
function(unas_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${UNAS_WARNING_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_compile_definitions(${name} PRIVATE UNAS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  _unas_common_setup(${name})
  include(GoogleTest)
  # Listing a LibTorch test binary's tests loads ~285 shared libraries: on a
  # loaded 2-core machine that took longer than CMake's default 5 s once.
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()

# unas_unity(TARGET BATCH): compile TARGET's sources as unity translation units
# of up to BATCH files (0: all in one). Each of our files repeats the parse of
# the same protobuf, gRPC and abseil headers (3-5 CPU-seconds a file), so
# merging them is the cheapest cut of a cold build (docs/building.md, "Build
# time"). Names in anonymous namespaces must then differ between the files of
# one target; a file that cannot comply sets SKIP_UNITY_BUILD_INCLUSION.
function(unas_unity target batch)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${batch})
endfunction()
