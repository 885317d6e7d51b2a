# The audit-log reader behind `fomctl log verify`; auditlog.c is compiled into the
# target (instrumented) rather than linked from fomgr_core.
fo_fuzz_target(fuzz_auditlog fo_common PkgConfig::SSL PkgConfig::JANSSON)
if(TARGET fuzz_auditlog)
  target_sources(fuzz_auditlog PRIVATE ${CMAKE_SOURCE_DIR}/fomgr/auditlog.c)
  target_include_directories(fuzz_auditlog PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
endif()
