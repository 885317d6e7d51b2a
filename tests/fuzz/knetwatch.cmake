# The knet watch's datagram parser (fomgr/knetwatch.c): it reads what any host on
# the cluster network sends to corosync's port.
fo_fuzz_target(fuzz_knetwatch fomgr_core)
