# The cluster simulator (tests/sim): the real node core against a model of
# corosync, kernels and a clock. CI's campaign: 1000 seeds; sim.broken builds the
# core without its claim round and expects the campaign to catch it.
add_executable(sim sim/sim.c sim/cluster.c sim/table.c)
target_include_directories(sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim)
target_link_libraries(sim PRIVATE fomgr_core)
add_test(NAME sim.campaign COMMAND sim --seeds 1000)
set_tests_properties(sim.campaign PROPERTIES LABELS sim TIMEOUT 120)
# Under ASan (the build ctest runs in CI) the simulator is compiled at -O2 like the
# core it links, and ASan's quarantine of freed memory is 16 MB instead of 256:
# every announce in flight is a 43 KB message, and with the default quarantine
# each new one lands on fresh pages (page faults were a fifth of the campaign's
# time). 16 MB still holds the last few hundred freed messages for use-after-free.
set(FO_SIM_ENV "ASAN_OPTIONS=quarantine_size_mb=16")
set_tests_properties(sim.campaign PROPERTIES ENVIRONMENT "${FO_SIM_ENV}")
# The shipped fast corosync profile (conf/corosync-3node-fast.conf, token 300, knet
# pings 200 / 600 ms): the margins for knet's 200 ms heartbeat tick are what keeps it
# clean (tokens of 150 and 200 showed two holders for a millisecond, about 1 seed in
# 3000, README "Corosync profile frontier").
add_test(NAME sim.fast-profile COMMAND sim --seeds 500 --first-seed 20261204 --token 300)
set_tests_properties(sim.fast-profile PROPERTIES LABELS sim TIMEOUT 120 ENVIRONMENT "${FO_SIM_ENV}")

add_executable(sim_broken sim/sim.c sim/cluster.c sim/table.c ${CMAKE_SOURCE_DIR}/fomgr/transition.c)
target_compile_definitions(sim_broken PRIVATE FO_SIM_BROKEN_CLAIM)
target_include_directories(sim_broken PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim)
target_link_libraries(sim_broken PRIVATE fomgr_core)
add_test(NAME sim.broken COMMAND sim_broken --seeds 1000 --expect-failure)
set_tests_properties(sim.broken PROPERTIES LABELS sim TIMEOUT 120 ENVIRONMENT "${FO_SIM_ENV}")
if(FO_SANITIZE)
  target_compile_options(sim PRIVATE -O2)
  target_compile_options(sim_broken PRIVATE -O2)
endif()
# The simulator is no fuzz target: its own code (the invariants it checks after
# every event walk every node's transition slots) carries no libFuzzer coverage
# hooks, which cost more than the checks. The core it links keeps them.
if(FO_FUZZ)
  target_compile_options(sim PRIVATE -fno-sanitize=fuzzer-no-link)
  target_compile_options(sim_broken PRIVATE -fno-sanitize=fuzzer-no-link)
endif()
