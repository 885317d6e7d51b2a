# The audit modules (auditlog, audit, netstate). Each test compiles the sources it
# needs itself, so it builds whatever state fomgr_core is in.
if(CMOCKA_FOUND)
  add_executable(test_auditlog unit/test_auditlog.c)
  target_include_directories(test_auditlog PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
  target_link_libraries(test_auditlog PRIVATE fo_common PkgConfig::SSL PkgConfig::JANSSON PkgConfig::CMOCKA)
  add_test(NAME unit.test_auditlog COMMAND test_auditlog)
  set_tests_properties(unit.test_auditlog PROPERTIES LABELS unit)
endif()
