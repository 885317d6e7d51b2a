# The quorum device's judgement: connected, lost after the grace, back; the
# two_node risk; its part of the status document and /metrics.
fo_unit_test(test_qdevice fomgr_core)
