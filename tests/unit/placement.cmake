# Pure logic: compiled from its sources so the test does not depend on the rest of fomgr_core.
add_executable(test_placement unit/test_placement.c ${CMAKE_SOURCE_DIR}/fomgr/placement.c
               ${CMAKE_SOURCE_DIR}/fomgr/view.c ${CMAKE_SOURCE_DIR}/fomgr/wire.c)
target_include_directories(test_placement PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
target_link_libraries(test_placement PRIVATE fo_common PkgConfig::CMOCKA)
add_test(NAME unit.test_placement COMMAND test_placement)
set_tests_properties(unit.test_placement PROPERTIES LABELS unit)
