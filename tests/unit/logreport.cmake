# The audit log review behind `fomctl log report`, over logs written by the real writer.
fo_unit_test(test_logreport fomgr_core)
