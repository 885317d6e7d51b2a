#!/bin/bash
# The holder's corosync frozen (SIGSTOP) for five times the token, then resumed:
# fomgr on the holder sees its corosync stop answering and releases before the
# peers evict it (ring-stall), a survivor takes over, and no sample of the kernels
# ever shows two holders. After the resume one node holds, the client is answered
# within a second, and its neighbour entry for the VIP is the holder's MAC.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FREEZE_S=3     # test profile: token 600 ms, consensus 720 ms
HEAL_MS=1000   # after the resume, the client is answered again within this
PROBE_MS=12000 # the client's probe covers the whole scenario

lab_init 11 3 test
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
start_echo_all
wait_for 15 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
wait_for 10 grep -q 'ring watch: corosync asked every' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1's ring watch never reported its bound"
bound=$(grep -o 'stalled after [0-9]* ms' "$LAB_STATE/node1/fomgr.log" | tail -n 1 | awk '{ print $3 }')
log "node1 holds $VIP; ring-stall bound ${bound} ms"

sampler_start $VIP
probe_start probe $VIP "$LAB_ECHO_PORT" 10 $PROBE_MS
sleep 1.5
t_freeze=$(now_ms)
lab freeze "$LAB_ID" 1 corosync >/dev/null
wait_for 5 holder_is $VIP node2 || fail "corosync frozen on node1: $VIP held by '$(holders $VIP)', expected node2 alone"
t_taken=$(now_ms)
log "node2 alone holds $VIP $((t_taken - t_freeze)) ms after node1's corosync froze"
grep -q 'transition group=vip from=node1 to=none reason=ring-stall' "$LAB_STATE/node1/fomgr.log" ||
	fail "node1 logged no ring-stall release"
stall_at=$(grep -o 'ring-stall: corosync has not served this node for [0-9]* ms' "$LAB_STATE/node1/fomgr.log" | head -n 1)
log "node1: '$stall_at'"
sleep $((FREEZE_S - (t_taken - t_freeze) / 1000))
t_thaw=$(now_ms)
lab thaw "$LAB_ID" 1 corosync >/dev/null
probe_start heal $VIP "$LAB_ECHO_PORT" 10 5000
log "node1's corosync resumed after $((t_thaw - t_freeze)) ms"

lab wait-quorum "$LAB_ID" all --timeout 20
wait_for 10 eval 'h=$(holders $VIP) && [[ -n $h && $h != *" "* ]]' || fail "after the resume: $VIP held by '$(holders $VIP)'"
summary=$(probe_wait probe 20)
sleep 0.5
sampler_stop

# Never two holders, from well before the freeze to the end.
report=$(sampler_report 1 0 0) || fail "sampler: $report"
log "sampler: $report"
[[ $(kv dual_reads "$report") == 0 ]] || fail "two holders seen: $report"
# The survivor took over within the failover bound: the longest span with nobody
# holding is below token + consensus + one second of slack.
orphan=$(kv max_orphan_ms "$report")
((orphan > 0)) || fail "the sampler saw no handover at all ($report)"
((orphan < 600 + 720 + 1000)) || fail "nobody held $VIP for $orphan ms"

# The client: answered by node2 during the freeze, and again at most HEAL_MS after
# the resume (answers resumed in the probe's own clock: it started before t_freeze).
log "client: $summary"
[[ $(kv answered_by "$summary") == *node2* ]] || fail "the client was never answered by node2: $summary"
heal=$(probe_wait heal 10)
log "client from the resume on (5 s): $heal"
(($(kv max_gap_ms "$heal") < HEAL_MS)) || fail "client gap after the resume: $heal"

holder=$(assert_single_holder $VIP)
want=$(mac_of "$holder")
wait_for 5 eval '[[ $(client_neigh_mac $VIP) == "$want" ]]' ||
	fail "the client's neighbour entry for $VIP is '$(client_neigh_mac $VIP)', $holder's MAC is $want"
log "one holder ($holder) after the resume; the client's neighbour entry is its MAC"
