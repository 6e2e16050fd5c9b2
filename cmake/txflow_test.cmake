# txflow_add_test(<name> SOURCES a_test.cc ... LIBS lib ... [LABELS unit|slow|...]
#                 [TIMEOUT s] [S3] [S3PROXY])
# One GoogleTest binary; every TEST becomes its own ctest entry carrying LABELS,
# so `ctest -L unit` or `ctest -LE slow` can pick. S3: the binary talks to the
# versitygw server of the s3_server fixture (label s3 added). S3PROXY: it talks
# to the s3proxy server of the s3proxy_server fixture (label s3proxy added).
#
# gtest_discover_tests flattens list-valued PROPERTIES (two labels become a
# label and a bogus property), so labels, fixtures and environment are set by
# a script that ctest runs after the discovered tests are added.
function(_txflow_test_properties name list_var labels env fixture)
  set(file ${CMAKE_CURRENT_BINARY_DIR}/${list_var}_properties.cmake)
  set(props "LABELS \"${labels}\"")
  if(env)
    string(APPEND props " ENVIRONMENT \"${env}\"")
  endif()
  if(fixture)
    string(APPEND props " FIXTURES_REQUIRED ${fixture}")
  endif()
  file(WRITE ${file}
    "if(${list_var})\n  set_tests_properties(\${${list_var}} PROPERTIES ${props})\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${file})
endfunction()

function(txflow_add_test name)
  if(NOT TXFLOW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "S3;S3PROXY" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} txflow_testing GTest::gtest
                        GTest::gtest_main Threads::Threads txflow_warnings)
  gtest_discover_tests(${name}
    TEST_LIST ${name}_TESTS
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
  if(T_S3)
    list(APPEND T_LABELS s3)
    _txflow_test_properties(${name} ${name}_TESTS "${T_LABELS}"
      "TXFLOW_S3_TEST_DIR=${TXFLOW_S3_TEST_DIR}" s3_server)
  elseif(T_S3PROXY)
    list(APPEND T_LABELS s3proxy)
    _txflow_test_properties(${name} ${name}_TESTS "${T_LABELS}"
      "TXFLOW_S3PROXY_TEST_DIR=${TXFLOW_S3PROXY_TEST_DIR}" s3proxy_server)
  else()
    _txflow_test_properties(${name} ${name}_TESTS "${T_LABELS}" "" "")
  endif()
endfunction()

# txflow_add_s3_variant(<test binary> [LABELS ...] [TIMEOUT s])
# Registers the binary's tests once more as "s3.<Suite>.<Test>", run with
# TXFLOW_TEST_STORAGE=s3 so that every TestRoot() lives on the S3 server.
function(txflow_add_s3_variant name)
  if(NOT TXFLOW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  list(APPEND T_LABELS s3)
  gtest_discover_tests(${name}
    TEST_PREFIX "s3."
    TEST_LIST ${name}_s3_TESTS
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
  _txflow_test_properties(${name} ${name}_s3_TESTS "${T_LABELS}"
    "TXFLOW_TEST_STORAGE=s3;TXFLOW_S3_TEST_DIR=${TXFLOW_S3_TEST_DIR}" s3_server)
endfunction()
