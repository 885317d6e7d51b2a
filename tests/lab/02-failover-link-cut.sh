#!/bin/bash
# Holder's link cut: the next preferred node takes the IPv4 and IPv6 VIPs, the
# isolated node (no quorum) holds nothing; link restored with failback auto: the
# VIPs return to the preferred node. Asserted from every node's kernel and from
# the client.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
VIP6=2001:db8::100

lab_init 2 3 test
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all

wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 5 holder_is $VIP6 node1 || fail "node1 never took $VIP6: '$(holders $VIP6)'"
who=$(client_reach $VIP 7777) || fail "client gets no answer from $VIP"
[[ $who == node1 ]] || fail "$VIP answered by $who, expected node1"
log "node1 holds $VIP and $VIP6; the client reaches it"

lab cut "$LAB_ID" 1 >/dev/null
wait_for 10 holder_is $VIP node2 || fail "after cutting node1: $VIP held by '$(holders $VIP)', expected node2 only"
log "node2 holds $VIP ${WAIT_MS} ms after the cut (and node1 released it: single holder)"
wait_for 5 holder_is $VIP6 node2 || fail "$VIP6 held by '$(holders $VIP6)', expected node2 only"
wait_for 5 eval 'who=$(client_reach $VIP 7777) && [[ $who == node2 ]]' || fail "client: $VIP not answered by node2"
wait_for 5 eval 'who=$(client_reach $VIP6 7777) && [[ $who == node2 ]]' || fail "client: $VIP6 not answered by node2"
grep -q 'transition group=vip from=node1 to=node2 reason=failover' "$LAB_STATE/node2/fomgr.log" ||
	fail "node2 logged no failover transition line"
# Cut off, node1 releases by whichever rule fires first: the isolation rule or the
# lost quorum (reason=quorum), or the ring watch's token rule (reason=ring-stall:
# no token for T + C / 2 while its links reach no majority, which wins when knet
# is slow to call the links down). Any of them, before the others' T + C.
release=$(grep -oE 'transition group=vip from=node1 to=none reason=(quorum|ring-stall)' \
	"$LAB_STATE/node1/fomgr.log" | head -n 1) || fail "node1 logged no release (quorum or ring-stall)"
log "node1: ${release##*reason=} release"

# Still one holder a while later: the minority stays empty.
sleep 2
assert_holder $VIP node2
assert_holder $VIP6 node2

lab restore "$LAB_ID" 1 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 20
wait_for 10 holder_is $VIP node1 || fail "failback auto: $VIP held by '$(holders $VIP)', expected node1"
wait_for 5 holder_is $VIP6 node1 || fail "failback auto: $VIP6 held by '$(holders $VIP6)'"
grep -q 'transition group=vip from=node2 to=node1 reason=failback' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no failback transition"
wait_for 5 eval 'who=$(client_reach $VIP 7777) && [[ $who == node1 ]]' || fail "client: $VIP not answered by node1 after failback"
log "failback: node1 holds both VIPs again"
