# txflow_add_fuzzer(<name> SOURCES a_fuzz.cc ... LIBS lib ...)
# A libFuzzer target (TXFLOW_FUZZ=ON, clang only), plus a ctest entry
# "fuzz.<name>" (label fuzz) that runs it for TXFLOW_FUZZ_SECONDS on a scratch
# copy of its seed corpus fuzz/corpus/<name>/ (which holds the regression
# inputs of every crash found so far).
set(TXFLOW_FUZZ_SECONDS 5 CACHE STRING "seconds per fuzzer in ctest")
function(txflow_add_fuzzer name)
  if(NOT TXFLOW_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS} txflow_warnings)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz.${name}
    COMMAND ${PROJECT_SOURCE_DIR}/tools/run-fuzzer.sh $<TARGET_FILE:${name}>
            ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name} ${TXFLOW_FUZZ_SECONDS})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 7200)
endfunction()
