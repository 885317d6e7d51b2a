# The cluster's history: order, bound, since filter, once per process, the newest admin change.
fo_unit_test(test_history fomgr_core)
