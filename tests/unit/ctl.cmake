# Operators' modules: the control socket (parsing, authorization, the socket in a
# loop of its own) and the metrics renderer.
fo_unit_test(test_control fomgr_core)
fo_unit_test(test_metrics fomgr_core)
fo_unit_test(test_control_hooks fomgr_core)
