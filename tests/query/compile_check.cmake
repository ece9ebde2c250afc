# Compiles one source with the compiler under test and checks the outcome:
#   cmake -DCXX=<compiler> -DSOURCE=<file> -DINCLUDES=<dir|dir...> [-DEXPECT=<text>] -P compile_check.cmake
# With EXPECT, compilation must fail AND the diagnostics must contain EXPECT, so a snippet that
# fails for another reason (a typo, a missing header) does not count as a pass. Without EXPECT,
# compilation must succeed (the positive control).
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS include_dirs)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic ${include_flags} ${SOURCE}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT DEFINED EXPECT OR EXPECT STREQUAL "")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} must compile but did not:\n${output}")
  endif()
  return()
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but must not (expected: ${EXPECT})")
endif()
string(FIND "${output}" "${EXPECT}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with \"${EXPECT}\":\n${output}")
endif()
message(STATUS "${SOURCE}: rejected as expected (${EXPECT})")
