# Build-wide choices that cut the cold build's CPU time without changing the
# code generated (docs/building.md, "Build time"). Each was measured.

# Line tables only (-g1: backtraces and perf keep file and line; gdb has no
# local variables) instead of full debug information in RelWithDebInfo. Writing
# full debug information for the templates of gRPC, protobuf, abseil and
# GoogleTest is about a third of a translation unit's compile time (a
# coordinator test: 17.3 CPU-s with -g, 10.7 with -g1). -DUNAS_FULL_DEBUG_INFO=ON
# restores -g for a debugging session.
option(UNAS_FULL_DEBUG_INFO "Full debug information (-g) in RelWithDebInfo builds" OFF)
if(NOT UNAS_FULL_DEBUG_INFO)
  # Comes after CMAKE_CXX_FLAGS_RELWITHDEBINFO's -g on the command line: the last -g wins.
  add_compile_options($<$<CONFIG:RelWithDebInfo>:-g1>)
endif()

# LLVM's lld links in about a third of GNU ld's CPU time (unas-coordinator: 2.5
# CPU-s with ld.bfd, 0.9 with ld.lld) and the tree has ~90 executables, most of
# them linking gRPC or LibTorch. Debian's lld package (scripts/install-deps);
# GNU ld when it is absent.
option(UNAS_USE_LLD "Link with lld when the compiler accepts -fuse-ld=lld" ON)
if(UNAS_USE_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" UNAS_HAVE_LLD)
  if(UNAS_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()
