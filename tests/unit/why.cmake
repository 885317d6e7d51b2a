# Why (placement_why_*) and what-if (whatif.c) as tables over placement inputs,
# and the admin state's disabled groups and maintenance mode (edits, file).
fo_unit_test(test_why fomgr_core)
