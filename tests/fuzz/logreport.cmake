# The audit-log review behind `fomctl log report` (auditlog.c for its chain check).
fo_fuzz_target(fuzz_logreport fo_common PkgConfig::SSL PkgConfig::JANSSON)
if(TARGET fuzz_logreport)
  target_sources(fuzz_logreport PRIVATE ${CMAKE_SOURCE_DIR}/fomgr/logreport.c ${CMAKE_SOURCE_DIR}/fomgr/auditlog.c)
  target_include_directories(fuzz_logreport PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
endif()
