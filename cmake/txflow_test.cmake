# txflow_add_test(<name> SOURCES a_test.cc ... LIBS lib ... [LABELS unit|slow|...])
# One GoogleTest binary; every TEST becomes its own ctest entry carrying LABELS,
# so `ctest -L unit` or `ctest -LE slow` can pick.
function(txflow_add_test name)
  if(NOT TXFLOW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main
                        Threads::Threads txflow_warnings)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
