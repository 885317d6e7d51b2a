fo_unit_test(test_config fomgr_core)
target_compile_definitions(test_config PRIVATE FO_CONF_DIR="${CMAKE_SOURCE_DIR}/conf")
