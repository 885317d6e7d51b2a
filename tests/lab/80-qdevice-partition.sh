#!/bin/bash
# Two nodes kept safe by a real tie-breaker (issue 11): corosync-qdevice on each
# node, algorithm ffsplit, voting for the partition corosync-qnetd on a witness
# picks (no two_node). fomctl status, /status and /metrics show the device
# connected and no split-brain-risk warning.
#   1. The two nodes cannot hear each other, both still reach the witness: qnetd
#      gives its vote to one side (ffsplit's tie-breaker, the lowest nodeid:
#      node1, the holder), which keeps the VIP; node2 has no quorum and never
#      claims it; the client is answered by node1 throughout. Again with node2
#      holding (moved there): the holder is on the losing side, releases, and
#      node1 takes over.
#   2. The holder cut off from everything, the witness included: node2 gets the
#      vote once qnetd gives up on node1 (its dead-peer detection), node1 has no
#      quorum and releases, node2 takes over; failback once node1 is back.
# Never two holders in any sample of the kernels, from start to end.
source "$(dirname "$0")/lib.sh"
need_status_tools
VIP=192.0.2.100
# qdevice's default timeout (10 s): qnetd drops a silent client after 1.5 x its
# 8 s heartbeat, so a dead holder's partition loses the vote within 12 s; then
# the survivor's corosync syncs and fomgr claims (test profile: token 600 ms).
FAILOVER_S=25

qdevice_pair_start 80 $VIP
for k in 1 2; do
	status_says "$k" "st['qdevice']['algorithm'] == 'ffsplit'" || fail "node$k: $(ctl "$k" status --json)"
	has_warning "$k" split-brain-risk && fail "node$k warns of a split-brain risk with a device connected"
	has_warning "$k" qdevice-disconnected && fail "node$k warns of a disconnected device: $(ctl "$k" status)"
	grep -q '^qdevice net ffsplit  witness 198.51.100.250  CONNECTED  votes 1' <<<"$(ctl "$k" status)" ||
		fail "fomctl status on node$k has no qdevice line: $(ctl "$k" status)"
	metric_is "$k" 'fomgr_qdevice_connected 1' || fail "node$k: fomgr_qdevice_connected is not 1"
	metric_is "$k" 'fomgr_warning{warning="split-brain-risk"} 0' || fail "node$k: split-brain-risk metric is not 0"
done
log "node1 holds $VIP; $(ctl 1 status | grep '^qdevice')"

sampler_start $VIP
sleep 1

# 1. A partition between the nodes, the witness reachable from both.
t_cut=$(now_ms)
lab block "$LAB_ID" 1 2 >/dev/null
split() { quorate_with node1 1 && inquorate node2; }
wait_for 30 split || fail "no partition: node1 '$(membership node1)', node2 '$(membership node2)'"
log "partition: node1 '$(membership node1)', node2 '$(membership node2)' ($(($(now_ms) - t_cut)) ms)"
wait_for 20 holder_is $VIP node1 || fail "after the partition $VIP is held by '$(holders $VIP)', expected node1"
who=$(client_reach $VIP "$LAB_ECHO_PORT") || fail "the client is not answered during the partition"
[[ $who == node1 ]] || fail "the client is answered by $who during the partition, expected node1"
sleep 3
assert_holder $VIP node1
split || fail "the partition did not hold: node1 '$(membership node1)', node2 '$(membership node2)'"
grep -q 'to=node2' "$LAB_STATE/node2/fomgr.log" && fail "node2 claimed $VIP without quorum"
log "node1 alone is quorate and holds $VIP, node2 has no quorum and never claimed; the client is on node1"
lab unblock "$LAB_ID" 1 2 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
lab wait-qdevice "$LAB_ID" all --timeout 30 >/dev/null
wait_for 20 holder_is $VIP node1 || fail "after the heal $VIP is held by '$(holders $VIP)'"

# 1b. The same partition with node2 holding (an operator moved the VIP there):
# qnetd still gives its vote to node1's side, so the holder is on the losing side
# and must release while node1 claims.
ctl 1 vip move vip --to node2 --wait 10 >/dev/null || fail "vip move to node2 failed"
wait_for 10 holder_is $VIP node2 || fail "after the move $VIP is held by '$(holders $VIP)'"
sleep 1
lab block "$LAB_ID" 1 2 >/dev/null
wait_for 30 split || fail "no partition: node1 '$(membership node1)', node2 '$(membership node2)'"
wait_for 20 holder_is $VIP node1 || fail "the holder on the losing side: $VIP held by '$(holders $VIP)', expected node1"
grep -q 'transition group=vip from=node2 to=none reason=' "$LAB_STATE/node2/fomgr.log" ||
	fail "node2 logged no release"
log "holder on the losing side: node2 released, node1 (with the vote) holds $VIP"
lab unblock "$LAB_ID" 1 2 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
lab wait-qdevice "$LAB_ID" all --timeout 30 >/dev/null
ctl 1 vip clear vip >/dev/null || fail "vip clear failed"
wait_for 20 holder_is $VIP node1 || fail "after the heal and the clear $VIP is held by '$(holders $VIP)'"
t_heal1=$(now_ms)

# 2. The holder cut off from everything (its links to node2 and to the witness).
t_cut2=$(now_ms)
lab cut "$LAB_ID" 1 >/dev/null
wait_for $FAILOVER_S holder_is $VIP node2 ||
	fail "node1 cut off: $VIP held by '$(holders $VIP)' after ${FAILOVER_S}s, expected node2 alone"
t_took=$(now_ms)
log "node1 cut off: node2 alone holds $VIP $((t_took - t_cut2)) ms later"
# node1's corosync waits for its qdevice's vote on the new ring (up to sync_timeout) and
# meanwhile reports the old one; fomgr released when corosync stopped answering
# (ring-stall). The verdict (no quorum) comes when that wait ends.
wait_for 30 inquorate node1 || fail "node1, cut off, is not inquorate: '$(membership node1)'"
grep -q 'transition group=vip from=node1 to=none' "$LAB_STATE/node1/fomgr.log" || fail "node1 logged no release"
wait_for 5 eval 'who=$(client_reach $VIP $LAB_ECHO_PORT) && [[ $who == node2 ]]' || fail "the client is not answered by node2"
lab restore "$LAB_ID" 1 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
wait_for 30 holder_is $VIP node1 || fail "failback: $VIP held by '$(holders $VIP)', expected node1"
log "node1 back: failback, node1 holds $VIP"
sleep 1
sampler_stop

for span in "$t_cut $t_heal1" "$t_cut2 0"; do
	read -r from to <<<"$span"
	report=$(sampler_report 1 "$from" "$to") || fail "sampler: $report"
	log "sampler from $from: $report"
	(($(kv dual_reads "$report") == 0)) || fail "two holders seen: $report"
	(($(kv reads "$report") > 100)) || fail "the sampler barely ran: $report"
done
# Proof the second fault moved the VIP through the kernels (not only the logs).
report=$(sampler_report 1 "$t_cut2" 0)
(($(kv max_orphan_ms "$report") > 0)) || fail "the sampler never saw node1 give the VIP up: $report"
