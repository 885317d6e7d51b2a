# As in tests/unit/config.cmake, config.c is compiled into the target itself, so
# it is instrumented for coverage (-fsanitize=fuzzer) and builds whatever state
# the rest of fomgr_core is in. To link the library instead:
# fo_fuzz_target(fuzz_config fomgr_core) and drop target_sources.
fo_fuzz_target(fuzz_config fo_common PkgConfig::INIH PkgConfig::SSL)
if(TARGET fuzz_config)
  target_sources(fuzz_config PRIVATE ${CMAKE_SOURCE_DIR}/fomgr/config.c)
  target_include_directories(fuzz_config PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
endif()
