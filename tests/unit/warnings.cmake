# The derived warnings (no quorum, no holder, all in standby, drift, findings) and their metrics.
fo_unit_test(test_warnings fomgr_core)
