# sockdiag (lib) and the agent's resources module, with the socket benchmark.
fo_unit_test(test_sockdiag fo_common)

# resources.c belongs to healthcheck, whose library target another module owns; the
# test compiles the source itself so it does not depend on that target.
add_executable(test_resources unit/test_resources.c ${CMAKE_SOURCE_DIR}/healthcheck/resources.c)
target_include_directories(test_resources PRIVATE ${CMAKE_SOURCE_DIR}/healthcheck)
target_link_libraries(test_resources PRIVATE fo_common PkgConfig::CMOCKA m)
add_test(NAME unit.test_resources COMMAND test_resources)
set_tests_properties(unit.test_resources PROPERTIES LABELS unit)

add_executable(sockdiag-bench bench/sockdiag-bench.c)
target_link_libraries(sockdiag-bench PRIVATE fo_common)
