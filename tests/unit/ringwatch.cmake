# The ring watch's bound and its stall / recovery decisions, driven without a thread.
fo_unit_test(test_ringwatch fomgr_core)
target_include_directories(test_ringwatch PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
