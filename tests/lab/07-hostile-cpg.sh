#!/bin/bash
# A stray process joins fomgr's CPG group and sends garbage, broken headers and a
# well-formed announce that claims the VIP and puts node1 in standby. fomgr refuses
# and logs the garbage, ignores the stray member, keeps one holder, and still fails
# over afterwards.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 7 3 test
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
inject=$(tool cpg-inject)

lab_exec node2 timeout 20 "$inject" fomgr garbage 200 >/dev/null || fail "cpg-inject could not send"
lab_exec node3 timeout 20 "$inject" fomgr announce >/dev/null || fail "cpg-inject could not send"
for k in 1 2 3; do
	pgrep -f "fomgr --config $LAB_STATE/node$k/" >/dev/null || fail "fomgr on node$k died"
	grep -q 'peer message from node2 (pid [0-9]*) refused' "$LAB_STATE/node$k/fomgr.log" ||
		fail "node$k did not log the refused garbage"
	grep -q 'ignored a process that joined the group from node3' "$LAB_STATE/node$k/fomgr.log" ||
		fail "node$k did not ignore the stray member on node3"
done
grep -q 'admin state epoch 1000000' "$LAB_STATE"/node*/fomgr.log && fail "the intruder's admin state was adopted"
assert_holder $VIP node1
log "garbage refused, stray member ignored, node1 still holds $VIP"

lab cut "$LAB_ID" 1 >/dev/null
wait_for 10 holder_is $VIP node2 || fail "failover after the attack: $VIP held by '$(holders $VIP)'"
log "failover still works"
