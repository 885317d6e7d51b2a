# The control protocol's request parser (fomgr/control.c).
fo_fuzz_target(fuzz_control fomgr_shared)
