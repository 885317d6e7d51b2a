#!/bin/bash
# Pins are cluster state: `vip move --to node3` is shown by every node, survives a
# restart of fomgr on the pinned node and on another node, and a restart of the
# whole cluster (every fomgr and every corosync stopped, then started again, the
# pinned node last); `vip clear` ends it everywhere.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FOMCTL=$FO_BUILD/fomctl/fomctl
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 23 3
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
members_are() { # K N
	ctl "$1" status --json 2>/dev/null | grep "\"members\":$2," >/dev/null
}
# Every node in LIST answers and shows the pin PIN ("" for none).
pin_everywhere() { # PIN K...
	local pin=$1 k got
	shift
	for k in "$@"; do
		got=$(ctl "$k" status --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
g = [g for g in st["groups"] if g["name"] == "vip"][0]
print(st["admin"]["pins"].get("vip", "") if st["admin"]["pins"].get("vip", "") == (g["pinned_to"] or "") else "MISMATCH")') ||
			return 1
		[[ $got == "$pin" ]] || return 1
	done
}
wait_for 20 members_are 1 3 || fail "the three fomgr never joined"
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP"

ctl 1 vip move vip --to node3 --wait 10 >/dev/null || fail "vip move --to node3"
assert_holder $VIP node3
wait_for 5 pin_everywhere node3 1 2 3 || fail "not every node shows the pin to node3"
log "pinned to node3, shown by every node"

# fomgr restarted on the pinned node: the group leaves with it and comes back.
lab stop-fomgr "$LAB_ID" 3 >/dev/null
wait_for 10 holder_is $VIP node1 || fail "with node3's fomgr stopped, $VIP held by '$(holders $VIP)'"
pin_everywhere node3 1 2 || fail "the pin was dropped while node3 was away"
lab start-fomgr "$LAB_ID" 3 >/dev/null
wait_for 20 holder_is $VIP node3 || fail "after node3's restart, $VIP held by '$(holders $VIP)'"
wait_for 5 pin_everywhere node3 1 2 3 || fail "pin not shown after node3's restart"
log "fomgr restart on node3: away, the group went to node1 and the pin stayed; back, node3 holds it again"

# fomgr restarted on another node: nothing moves, the restarted node learns the pin.
lab stop-fomgr "$LAB_ID" 1 >/dev/null
assert_holder $VIP node3
lab start-fomgr "$LAB_ID" 1 >/dev/null
wait_for 20 members_are 1 3 || fail "node1 did not rejoin"
wait_for 5 pin_everywhere node3 1 2 3 || fail "node1 forgot the pin"
assert_holder $VIP node3
log "fomgr restart on node1: the pin holds, nothing moved"

# The whole cluster: every fomgr, then every corosync.
for k in 1 2 3; do lab stop-fomgr "$LAB_ID" "$k" >/dev/null; done
assert_no_holder $VIP
for k in 1 2 3; do lab stop-corosync "$LAB_ID" "$k" >/dev/null; done
for k in 1 2 3; do
	[[ -s $LAB_STATE/node$k/lib/admin.json ]] || fail "node$k has no persisted admin state"
done
log "cluster stopped (fomgr and corosync on every node); admin state persisted on each"
for k in 1 2 3; do lab start-corosync "$LAB_ID" "$k" >/dev/null; done
log "$(lab wait-quorum "$LAB_ID" all --timeout 30)"
# node3 last: the others are quorate without it and must keep its pin.
for k in 1 2; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
wait_for 20 members_are 1 2 || fail "node1 and node2 did not join"
wait_for 10 holder_is $VIP node1 || fail "without node3, $VIP held by '$(holders $VIP)', expected node1"
pin_everywhere node3 1 2 || fail "after the cluster restart the pin is gone"
lab start-fomgr "$LAB_ID" 3 >/dev/null
wait_for 20 holder_is $VIP node3 || fail "after the cluster restart, $VIP held by '$(holders $VIP)', expected node3"
wait_for 5 pin_everywhere node3 1 2 3 || fail "pin not shown by every node after the cluster restart"
log "full cluster restart: the pin survived; node3 holds $VIP again"

ctl 2 vip clear vip >/dev/null || fail "vip clear"
wait_for 10 holder_is $VIP node1 || fail "after the clear, $VIP held by '$(holders $VIP)', expected node1 (failback)"
wait_for 5 pin_everywhere "" 1 2 3 || fail "a node still shows the pin after the clear"
log "vip clear: no pin anywhere, failback to node1"
