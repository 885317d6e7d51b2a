# The VIP conflict watcher's pure parts (frame parser, decision, kernel filter,
# episodes). The test includes fomgr/conflict.c for its statics and takes the rest
# (vip, transition, logging) from fomgr_core.
if(CMOCKA_FOUND)
  fo_unit_test(test_conflict fomgr_core)
endif()
