# The slow-client guard's policy (which connection to close, when a deadline is past).
fo_unit_test(test_httpd_guard fo_common)
