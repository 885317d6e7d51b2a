# Test tool for the lab: a stray CPG member sending hostile messages.
add_executable(cpg-inject tools/cpg-inject.c ${CMAKE_SOURCE_DIR}/fomgr/wire.c)
target_include_directories(cpg-inject PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
target_link_libraries(cpg-inject PRIVATE fo_base PkgConfig::CORO)
