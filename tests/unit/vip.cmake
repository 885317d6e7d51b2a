# vip: the integration test's driver (tests/integration/10-vip-netns.sh) and a unit
# test of the module's pure helpers. Both compile fomgr/vip.c (and nlerr.c, and lib/sockfilter.c)
# directly and need nothing else of the tree, so they build whatever state fomgr_core and fo_common are in.
add_executable(vip-tool ${CMAKE_CURRENT_SOURCE_DIR}/tools/vip-tool.c
               ${CMAKE_SOURCE_DIR}/fomgr/vip.c ${CMAKE_SOURCE_DIR}/fomgr/nlerr.c
               ${CMAKE_SOURCE_DIR}/lib/sockfilter.c)
target_include_directories(vip-tool PRIVATE ${CMAKE_SOURCE_DIR}/fomgr ${EV_INCLUDE})
target_link_libraries(vip-tool PRIVATE PkgConfig::NL ${EV_LIB})

if(CMOCKA_FOUND)
  fo_unit_test(test_vip PkgConfig::NL ${EV_LIB})
  target_sources(test_vip PRIVATE ${CMAKE_SOURCE_DIR}/fomgr/nlerr.c ${CMAKE_SOURCE_DIR}/lib/sockfilter.c)
  target_include_directories(test_vip PRIVATE ${CMAKE_SOURCE_DIR}/fomgr ${EV_INCLUDE})
endif()
