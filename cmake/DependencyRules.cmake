# Enforces the layers of docs/architecture.md ("Source layout") on the target
# graph and on the source files' includes. Components are top-level folders.
# Each may use (link, or include a header of) only itself and the components
# below it in _UNAS_LAYERS; on top of that:
#   resource_models  links nothing but abseil (it must stay usable on its own);
#   only worker/     links LibTorch; only coordinator/ links SQLite;
#   codegen          links no LibTorch, SQLite or gRPC, so an export needs none.
# tests/ and bench/ may depend on everything. A violation fails configure.

# component -> the components it may use besides itself. Shared libraries sit
# below all their users: int8/ (used by worker, codegen and the coordinator's
# result validation) and report/ (used by cli and the dashboard).
set(_UNAS_LAYERS
  "proto="
  "resource_models="
  "common=proto,resource_models"
  "int8=proto,resource_models,common"
  "report=proto,resource_models,common"
  "codegen=proto,resource_models,common,int8"
  "coordinator=proto,resource_models,common,int8,report"
  "worker=proto,resource_models,common,int8,codegen"
  "cli=proto,resource_models,common,int8,report,codegen,worker"
  "python=proto")

# Sets ${out} to the components `component` may use, or to "*" when it is not
# in the table (tests, bench, anything unlisted).
function(_unas_allowed_components component out)
  set(result "*")
  foreach(entry IN LISTS _UNAS_LAYERS)
    string(REPLACE "=" ";" parts "${entry}")
    list(GET parts 0 name)
    if(name STREQUAL component)
      list(LENGTH parts n)
      set(result "${component}")
      if(n GREATER 1)
        list(GET parts 1 below)
        string(REPLACE "," ";" below "${below}")
        list(APPEND result ${below})
      endif()
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# Every `#include "X/..."` in a layered component's sources (.h, .cc, .c)
# whose X is another layered component must point down the table.
function(_unas_check_includes root violations_out)
  set(violations "")
  set(names "")
  foreach(entry IN LISTS _UNAS_LAYERS)
    string(REGEX REPLACE "=.*" "" name "${entry}")
    list(APPEND names ${name})
  endforeach()
  foreach(component IN LISTS names)
    if(NOT IS_DIRECTORY ${root}/${component})
      continue()
    endif()
    _unas_allowed_components(${component} allowed)
    file(GLOB_RECURSE files ${root}/${component}/*.h ${root}/${component}/*.cc
         ${root}/${component}/*.c ${root}/${component}/*.in)
    foreach(file IN LISTS files)
      file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[A-Za-z_]+/")
      foreach(line IN LISTS includes)
        string(REGEX REPLACE "^[^\"]*\"([A-Za-z_]+)/.*$" "\\1" used "${line}")
        if(used IN_LIST names AND NOT used IN_LIST allowed)
          file(RELATIVE_PATH rel ${root} ${file})
          string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
          list(JOIN allowed ", " allowed_text)
          list(APPEND violations
               "${rel} (${component}) includes ${header}: ${component} may use only ${allowed_text}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(${violations_out} "${violations}" PARENT_SCOPE)
endfunction()

function(_unas_link_closure target out)
  set(seen "")
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue current)
    if(current IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${current})
    if(NOT TARGET ${current})
      continue()
    endif()
    get_target_property(aliased ${current} ALIASED_TARGET)
    if(aliased)
      list(APPEND queue ${aliased})
      continue()
    endif()
    get_target_property(type ${current} TYPE)
    set(links "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${current} LINK_LIBRARIES)
      if(direct)
        list(APPEND links ${direct})
      endif()
    endif()
    get_target_property(iface ${current} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND links ${iface})
    endif()
    foreach(link IN LISTS links)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" link "${link}")
      if(NOT link MATCHES "^\\$<")
        list(APPEND queue ${link})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(_unas_is_torch item out)
  if(item MATCHES "(^|/|::)(torch|torch_cpu|c10|torch_library)($|\\.so|::)" OR item MATCHES "libtorch")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(_unas_is_sqlite item out)
  if(item MATCHES "SQLite|sqlite3")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(unas_check_dependency_rules)
  get_property(targets GLOBAL PROPERTY UNAS_TARGETS)
  set(violations "")
  foreach(target IN LISTS targets)
    get_target_property(component ${target} UNAS_COMPONENT)
    if(component STREQUAL "tests" OR component STREQUAL "bench")
      continue()
    endif()
    _unas_link_closure(${target} closure)
    foreach(item IN LISTS closure)
      _unas_is_torch("${item}" torch)
      _unas_is_sqlite("${item}" sqlite)
      set(dep_component "")
      if(TARGET ${item})
        get_target_property(dep_component ${item} UNAS_COMPONENT)
      endif()
      _unas_allowed_components(${component} allowed)
      if(dep_component AND NOT allowed STREQUAL "*" AND NOT dep_component IN_LIST allowed)
        list(JOIN allowed ", " allowed_text)
        list(APPEND violations
             "${target} (${component}) links ${item} (${dep_component}): ${component} may use only ${allowed_text}")
      endif()
      if(component STREQUAL "resource_models")
        # Linker flags (abseil exports -Wl,--as-needed -latomic) are not libraries.
        if(NOT item MATCHES "^absl::" AND NOT dep_component STREQUAL "resource_models"
           AND NOT item MATCHES "^-"
           AND NOT item MATCHES "^(Threads::Threads|m|rt|dl|pthread|atomic)$")
          list(APPEND violations "${target} (resource_models) links ${item}: only abseil is allowed")
        endif()
      elseif(component STREQUAL "codegen" AND (torch OR sqlite OR item MATCHES "grpc|gRPC"))
        list(APPEND violations
             "${target} (codegen) links ${item}: no LibTorch, SQLite or gRPC in an export")
      elseif(torch AND NOT component STREQUAL "worker")
        list(APPEND violations "${target} (${component}) links LibTorch (${item}): only worker/ may")
      elseif(sqlite AND NOT component STREQUAL "coordinator")
        list(APPEND violations "${target} (${component}) links SQLite (${item}): only coordinator/ may")
      endif()
    endforeach()
  endforeach()
  _unas_check_includes(${CMAKE_SOURCE_DIR} include_violations)
  list(APPEND violations ${include_violations})
  if(violations)
    list(JOIN violations "\n  " text)
    message(FATAL_ERROR "Dependency rules of docs/architecture.md ('Source layout') violated:\n  ${text}")
  endif()
  list(LENGTH targets count)
  message(STATUS "Dependency rules checked on ${count} targets")
endfunction()
