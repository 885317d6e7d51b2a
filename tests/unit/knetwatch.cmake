# The knet watch: its datagram parser and link decision, and its packet socket and
# kernel filter on loopback in a network namespace of the test's own (root).
if(CMOCKA_FOUND)
  fo_unit_test(test_knetwatch fomgr_core)
endif()
