# Health-check agent: hysteresis, statistics and anomaly detection, config validation.
fo_unit_test(test_hc_hysteresis healthcheck_core)
fo_unit_test(test_hc_stats healthcheck_core)
fo_unit_test(test_hc_config healthcheck_core)
fo_unit_test(test_hc_render healthcheck_core)
