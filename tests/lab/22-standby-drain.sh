#!/bin/bash
# Maintenance of one node at a time, active-active: two groups, each preferring a
# different node. `node standby` drains a node (its groups move, one holder all
# along), status and every node agree it is in standby, a second node's standby
# drains that one too, and `node unstandby` lets failback bring each group home.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
VIP2=192.0.2.101
FOMCTL=$FO_BUILD/fomctl/fomctl
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 22 3
for k in 1 2 3; do
	{
		lab fomgr-config "$LAB_ID" "$k"
		printf '\n[group web2]\ninterface = eth0\naddress = %s/24\nprefer = node2 node3 node1\nfailback = auto\n' $VIP2
	} >"$LAB_STATE/node$k/aa.conf"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/aa.conf" >/dev/null
done
start_echo_all
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
all_members() { ctl 1 status --json 2>/dev/null | grep '"members":3,' >/dev/null; }
wait_for 20 all_members || fail "the three fomgr never joined"
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 10 holder_is $VIP2 node2 || fail "node2 never took $VIP2: '$(holders $VIP2)'"
log "active-active: node1 holds $VIP, node2 holds $VIP2"

# Every node's status says the same about standby.
standby_everywhere() { # NODE yes|no
	local k want=$2 got
	for k in 1 2 3; do
		got=$(ctl "$k" status --json | /usr/bin/python3 -c '
import json, sys
st = json.load(sys.stdin)
n = [n for n in st["nodes"] if n["name"] == sys.argv[1]][0]
print("yes" if n["standby"] and sys.argv[1] in st["admin"]["standby"] else "no")' "$1") || return 1
		[[ $got == "$want" ]] || return 1
	done
}

# The event stream of node1, for the whole drain.
lab spawn "$LAB_ID" node1 events "$FOMCTL" --socket "$LAB_STATE/node1/run/control.sock" --json events >/dev/null
sleep 0.3
# A probe on each VIP for the whole drain: the client loses at most a moment.
probe_start p1 $VIP "$LAB_ECHO_PORT" 10 4000 >/dev/null
probe_start p2 $VIP2 "$LAB_ECHO_PORT" 10 4000 >/dev/null
sleep 0.5
out=$(ctl 3 node standby node1 --wait 10) || fail "standby node1: $out"
log "$out"
assert_holder $VIP node2
assert_holder $VIP2 node2
wait_for 5 standby_everywhere node1 yes || fail "not every node shows node1 in standby"
s1=$(probe_wait p1 10)
s2=$(probe_wait p2 10)
[[ $(kv transitions "$s1") == node1-\>node2@* ]] || fail "client on $VIP: $s1"
[[ $(kv transitions "$s2") == "" || $(kv transitions "$s2") == "-" ]] || fail "client on $VIP2 saw a move: $s2"
log "drain of node1: $VIP unreachable at most $(kv max_gap_ms "$s1") ms, $VIP2 untouched (max gap $(kv max_gap_ms "$s2") ms)"
grep -q 'transition group=vip from=node1 to=node2 reason=standby' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no standby release"

events_has() { grep '"event":"transition"' "$LAB_STATE/node1/events.log" | grep "$1" >/dev/null; }
wait_for 5 events_has '"reason":"standby"' || fail "no standby transition in node1's event stream: $(cat "$LAB_STATE/node1/events.log")"
grep '"event":"admin"' "$LAB_STATE/node1/events.log" >/dev/null || fail "no admin event in node1's event stream"
lab stop "$LAB_ID" node1 events >/dev/null

# Idempotent: a second standby changes nothing and says so.
out=$(ctl 2 node standby node1) || fail "second standby: $out"
[[ $out == *"(already)"* ]] || fail "second standby: '$out'"

# Second node in maintenance: everything on node3.
out=$(ctl 1 node standby node2 --wait 10) || fail "standby node2: $out"
assert_holder $VIP node3
assert_holder $VIP2 node3
wait_for 5 standby_everywhere node2 yes || fail "not every node shows node2 in standby"
# The last eligible node cannot be drained: nowhere to go.
rc=0
out=$(ctl 1 node standby node3 --wait 3 2>&1) || rc=$?
if ((rc == 0)); then
	# The cluster accepted it: then nobody may hold the groups... which is a valid
	# operator's choice, but the VIPs must still have one holder at most.
	[[ -z $(holders $VIP) ]] || fail "node3 in standby, yet $VIP held by '$(holders $VIP)'"
	log "standby of the last eligible node accepted: nobody holds the VIPs until it ends"
	ctl 1 node unstandby node3 >/dev/null || fail "unstandby node3"
	wait_for 10 holder_is $VIP node3 || fail "$VIP not back on node3"
else
	log "standby of the last eligible node refused or not drained: exit $rc ($out)"
	ctl 1 node unstandby node3 >/dev/null 2>&1 || true
fi
wait_for 10 holder_is $VIP node3 || fail "$VIP not on node3: '$(holders $VIP)'"

# Back from maintenance: failback auto brings each group to its preferred node.
out=$(ctl 2 node unstandby node1) || fail "unstandby node1: $out"
wait_for 10 holder_is $VIP node1 || fail "failback: $VIP held by '$(holders $VIP)', expected node1"
assert_holder $VIP2 node3
out=$(ctl 2 node unstandby node2) || fail "unstandby node2: $out"
wait_for 10 holder_is $VIP2 node2 || fail "failback: $VIP2 held by '$(holders $VIP2)', expected node2"
assert_holder $VIP node1
wait_for 5 standby_everywhere node1 no || fail "node1 still shown in standby"
wait_for 5 standby_everywhere node2 no || fail "node2 still shown in standby"
grep -q 'transition group=vip from=node3 to=node1 reason=failback' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no failback"
log "unstandby: failback returned $VIP to node1 and $VIP2 to node2"
