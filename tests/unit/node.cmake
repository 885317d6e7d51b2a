# node_step tables: the simulator's scenarios (tests/sim/table.c) through its model,
# and the events the model does not make, row by row.
if(CMOCKA_FOUND)
  fo_unit_test(test_node fomgr_core)
  target_sources(test_node PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim/cluster.c ${CMAKE_CURRENT_SOURCE_DIR}/sim/table.c)
  target_include_directories(test_node PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sim)
endif()
