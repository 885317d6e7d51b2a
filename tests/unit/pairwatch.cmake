# The bridge-partition rule: pure, compiled from its source alone.
add_executable(test_pairwatch unit/test_pairwatch.c ${CMAKE_SOURCE_DIR}/fomgr/pairwatch.c)
target_include_directories(test_pairwatch PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
target_link_libraries(test_pairwatch PRIVATE fo_common PkgConfig::CMOCKA)
add_test(NAME unit.test_pairwatch COMMAND test_pairwatch)
set_tests_properties(unit.test_pairwatch PROPERTIES LABELS unit)
