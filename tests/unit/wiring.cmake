# What left manager.c for modules of their own (issue 10: the manager is wiring
# only): admission and start-up, start-up's reconciliation with the kernel, and
# the conflict watcher's owner side, the status document, the listeners and the
# translations into the core's events. Each mock is a module's interface, wrapped.
if(CMOCKA_FOUND)
  fo_unit_test(test_admission fomgr_core)
  target_link_options(test_admission PRIVATE -Wl,--wrap=executor_record -Wl,--wrap=membership_read_info)
  fo_unit_test(test_reconcile fomgr_core)
  target_link_options(test_reconcile PRIVATE -Wl,--wrap=vip_present -Wl,--wrap=vip_list_labelled
                      -Wl,--wrap=vip_del)
  fo_unit_test(test_wiring fomgr_core)
  target_link_options(test_wiring PRIVATE -Wl,--wrap=executor_record -Wl,--wrap=conflict_remove)
endif()
