# The cluster simulator (tests/sim): the real node core against a model of
# corosync, kernels and a clock. CI's campaign: 1000 seeds; sim.broken builds the
# core without its claim round and expects the campaign to catch it.
add_executable(sim sim/sim.c sim/cluster.c sim/table.c)
target_include_directories(sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim)
target_link_libraries(sim PRIVATE fomgr_core)
add_test(NAME sim.campaign COMMAND sim --seeds 1000)
set_tests_properties(sim.campaign PROPERTIES LABELS sim TIMEOUT 120)

add_executable(sim_broken sim/sim.c sim/cluster.c sim/table.c ${CMAKE_SOURCE_DIR}/fomgr/transition.c)
target_compile_definitions(sim_broken PRIVATE FO_SIM_BROKEN_CLAIM)
target_include_directories(sim_broken PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim)
target_link_libraries(sim_broken PRIVATE fomgr_core)
add_test(NAME sim.broken COMMAND sim_broken --seeds 1000 --expect-failure)
set_tests_properties(sim.broken PROPERTIES LABELS sim TIMEOUT 120)
