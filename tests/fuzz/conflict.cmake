# The VIP conflict watcher's frame parser (fomgr/conflict.c): it reads frames any
# host on the segment can send.
fo_fuzz_target(fuzz_conflict fomgr_core)
