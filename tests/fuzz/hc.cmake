# Health-check agent. The code under test is compiled into each target so it gets
# the fuzzer's coverage instrumentation (the library is built without it).
fo_fuzz_target(fuzz_hc_config fo_common PkgConfig::INIH)
if(TARGET fuzz_hc_config)
  target_sources(fuzz_hc_config PRIVATE ${CMAKE_SOURCE_DIR}/healthcheck/hcconfig.c)
  target_include_directories(fuzz_hc_config PRIVATE ${CMAKE_SOURCE_DIR}/healthcheck)
endif()
fo_fuzz_target(fuzz_hc_http fo_common PkgConfig::CURL PkgConfig::INIH PkgConfig::JANSSON PkgConfig::MHD
               PkgConfig::SSL PkgConfig::NL ${EV_LIB} m)
if(TARGET fuzz_hc_http)
  file(GLOB HC_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/healthcheck/*.c)
  list(REMOVE_ITEM HC_FUZZ_SRC ${CMAKE_SOURCE_DIR}/healthcheck/main.c)
  target_sources(fuzz_hc_http PRIVATE ${HC_FUZZ_SRC})
  target_include_directories(fuzz_hc_http PRIVATE ${CMAKE_SOURCE_DIR}/healthcheck ${EV_INCLUDE})
endif()
