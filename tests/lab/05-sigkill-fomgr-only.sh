#!/bin/bash
# SIGKILL of fomgr alone on the holder while its corosync stays up: the address is
# still in node1's kernel, so no other node may take it (no second holder); the
# restarted fomgr adopts the address instead of removing and re-adding it.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 5 3 test
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"

lab stop-fomgr "$LAB_ID" 1 --kill >/dev/null
for _ in $(seq 1 30); do
	h=$(holders $VIP)
	[[ $h == node1 ]] || fail "fomgr killed on node1: $VIP held by '$h', expected node1 alone"
	sleep 0.1
done
grep -q 'node1 left (process gone)' "$LAB_STATE/node2/fomgr.log" || fail "node2 did not see node1's fomgr go"

lab start-fomgr "$LAB_ID" 1 >/dev/null
wait_for 5 grep -q 'addresses found in the kernel, adopted' "$LAB_STATE/node1/fomgr.log" ||
	fail "restarted fomgr did not adopt the address"
sleep 1
assert_holder $VIP node1
grep -q 'reason=reconcile\|from=node1 to=none' "$LAB_STATE/node1/fomgr.log" &&
	fail "the restarted fomgr released the address it should adopt"
log "killed fomgr: no second holder; restarted: adopted"
