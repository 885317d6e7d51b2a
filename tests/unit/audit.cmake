# The audit modules (auditlog, audit, netstate). Each test compiles the sources it
# needs itself, so it builds whatever state fomgr_core is in.
if(CMOCKA_FOUND)
  add_executable(test_auditlog unit/test_auditlog.c)
  target_include_directories(test_auditlog PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
  target_link_libraries(test_auditlog PRIVATE fo_common PkgConfig::SSL PkgConfig::JANSSON PkgConfig::CMOCKA)
  # The tests count the log's syncs and make them fail.
  target_link_options(test_auditlog PRIVATE -Wl,--wrap=fdatasync)
  add_test(NAME unit.test_auditlog COMMAND test_auditlog)
  set_tests_properties(unit.test_auditlog PROPERTIES LABELS unit)
endif()

# The parts of the audit besides audit.c (the running audit) and audit_findings.c.
set(FO_AUDIT_PARTS ${CMAKE_SOURCE_DIR}/fomgr/audit_addr.c ${CMAKE_SOURCE_DIR}/fomgr/audit_ports.c
    ${CMAKE_SOURCE_DIR}/fomgr/audit_exposure.c ${CMAKE_SOURCE_DIR}/fomgr/audit_probe.c
    ${CMAKE_SOURCE_DIR}/fomgr/audit_drift.c)
# audit.c and netstate.c with the libraries they need; libnftables is the one
# fomgr_core does not link yet (see docs/security.md).
if(NOT TARGET PkgConfig::NFT)
  pkg_check_modules(NFT IMPORTED_TARGET libnftables)
endif()
if(CMOCKA_FOUND AND TARGET PkgConfig::NFT)
  set(FO_AUDIT_SRC ${CMAKE_SOURCE_DIR}/fomgr/auditlog.c ${CMAKE_SOURCE_DIR}/fomgr/config.c
      ${CMAKE_SOURCE_DIR}/fomgr/nlerr.c ${CMAKE_SOURCE_DIR}/fomgr/audit_findings.c)
  add_executable(test_audit unit/test_audit.c ${FO_AUDIT_SRC} ${FO_AUDIT_PARTS}
                 ${CMAKE_SOURCE_DIR}/fomgr/netstate.c)
  # netstate.c needs the findings only, not the running audit (no cycle).
  add_executable(test_netstate unit/test_netstate.c ${FO_AUDIT_SRC})
  foreach(t test_audit test_netstate)
    target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
    target_link_libraries(${t} PRIVATE fo_common PkgConfig::SSL PkgConfig::JANSSON PkgConfig::NL
                          PkgConfig::CORO PkgConfig::NFT PkgConfig::INIH PkgConfig::CMOCKA)
    add_test(NAME unit.${t} COMMAND ${t})
    set_tests_properties(unit.${t} PROPERTIES LABELS unit)
  endforeach()
endif()

# The driver of the audit lab scenarios and of tests/bench/audit-bench.sh.
if(TARGET PkgConfig::NFT)
  add_executable(audit-tool bench/audit-tool.c ${CMAKE_SOURCE_DIR}/fomgr/audit.c ${FO_AUDIT_PARTS}
                 ${CMAKE_SOURCE_DIR}/fomgr/audit_findings.c ${CMAKE_SOURCE_DIR}/fomgr/auditlog.c
                 ${CMAKE_SOURCE_DIR}/fomgr/netstate.c ${CMAKE_SOURCE_DIR}/fomgr/config.c
                 ${CMAKE_SOURCE_DIR}/fomgr/nlerr.c)
  target_include_directories(audit-tool PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
  target_link_libraries(audit-tool PRIVATE fo_common PkgConfig::SSL PkgConfig::JANSSON PkgConfig::NL
                        PkgConfig::CORO PkgConfig::NFT PkgConfig::INIH)
endif()
