# The failover path's order against a slow disk: manager.c included, with a fake
# kernel (vip.h), corosync, disk and socket count behind -Wl,--wrap.
if(CMOCKA_FOUND)
  fo_unit_test(test_failover_order fomgr_core)
  target_include_directories(test_failover_order PRIVATE ${CMAKE_SOURCE_DIR}/fomgr)
  set(FO_FAILOVER_WRAPS vip_del vip_add vip_announce vip_probe_arp vip_present vip_list_labelled
      membership_send membership_local_nodeid membership_read_info fdatasync fsync
      sockdiag_count_established_local)
  list(TRANSFORM FO_FAILOVER_WRAPS PREPEND "-Wl,--wrap=")
  target_link_options(test_failover_order PRIVATE ${FO_FAILOVER_WRAPS})
endif()
