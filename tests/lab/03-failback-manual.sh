#!/bin/bash
# failback = manual: after the preferred node's link comes back the VIP stays
# where it is (stickiness), with one holder throughout.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 3 3 test
for k in 1 2 3; do
	lab fomgr-config "$LAB_ID" "$k" | sed 's/^failback = auto/failback = manual/' >"$LAB_STATE/node$k/manual.conf"
	grep -q '^failback = manual' "$LAB_STATE/node$k/manual.conf" || fail "could not write a manual-failback config"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/manual.conf" >/dev/null
done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"

lab cut "$LAB_ID" 1 >/dev/null
wait_for 10 holder_is $VIP node2 || fail "after the cut: $VIP held by '$(holders $VIP)', expected node2"
lab restore "$LAB_ID" 1 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 20
# Give a failback every chance to happen (it would take milliseconds), sampling
# for a second holder all along.
for _ in $(seq 1 30); do
	h=$(holders $VIP)
	[[ $h == node2 ]] || fail "failback manual: $VIP held by '$h', expected node2 to keep it"
	sleep 0.1
done
grep -q 'reason=failback' "$LAB_STATE"/node*/fomgr.log && fail "a failback happened with failback = manual"
log "node2 keeps $VIP after node1 is back (manual failback)"
