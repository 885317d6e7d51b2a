# The fence's nft commands (the withdrawal itself runs in lab 12).
fo_unit_test(test_fence fomgr_core)
target_include_directories(test_fence PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
