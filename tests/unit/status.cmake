# The status document's transitions (bounded, shared between documents) and the
# text GET /status serves, with the manager's document behind -Wl,--wrap.
if(CMOCKA_FOUND)
  fo_unit_test(test_status fomgr_core)
  target_link_options(test_status PRIVATE -Wl,--wrap=manager_status)
endif()
