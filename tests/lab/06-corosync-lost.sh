#!/bin/bash
# corosync dies under a running fomgr (on the holder): fomgr treats it as losing
# quorum and releases, the peers take over; when corosync is back, fomgr reconnects
# by itself (backoff) and failback returns the VIP.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100

lab_init 6 3 test
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"

lab stop-corosync "$LAB_ID" 1 --kill >/dev/null
wait_for 10 holder_is $VIP node2 || fail "corosync killed on node1: $VIP held by '$(holders $VIP)', expected node2 alone"
grep -q 'lost corosync' "$LAB_STATE/node1/fomgr.log" || fail "node1's fomgr did not notice corosync going away"
grep -q 'transition group=vip from=node1 to=none reason=quorum' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 did not release on losing corosync"
log "node1 released when its corosync died; node2 holds $VIP"

lab start-corosync "$LAB_ID" 1 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30
wait_for 20 holder_is $VIP node1 || fail "corosync back: $VIP held by '$(holders $VIP)', expected node1 (failback)"
[[ $(grep -c 'joined CPG group' "$LAB_STATE/node1/fomgr.log") -ge 2 ]] || fail "node1's fomgr did not rejoin"
log "node1's fomgr reconnected by itself and took $VIP back"
