#!/bin/bash
# Two nodes with qdevice (ffsplit) when the witness goes away (issue 11):
#   1. corosync-qnetd stopped while both nodes are up: they keep quorum (2 of 3
#      votes) and nothing moves; once the device has not voted for 2 (T + C)
#      every node warns qdevice-disconnected (fomctl status, /status, /metrics)
#      and the audit log has the record.
#   2. Then a partition with the witness still down: neither side has quorum (1
#      of 3 votes), so neither holds the VIP, the documented cost; never two.
#   3. The witness back while the nodes are still apart: qnetd gives its vote to
#      one side, which holds again (one holder); the partition heals: the warning
#      is gone on both nodes (audited too) and node1 holds the VIP again.
# Never two holders in any sample of the kernels, from the stop to the end.
source "$(dirname "$0")/lib.sh"
need_status_tools
VIP=192.0.2.100

qdevice_pair_start 81 $VIP
sampler_start $VIP
sleep 1
moves_before=$(cat "$LAB_STATE"/node*/fomgr.log | grep -c 'transition group=')

# 1. The witness stops.
t_stop=$(now_ms)
lab stop-qnetd "$LAB_ID" >/dev/null
human() { ctl "$1" status 2>/dev/null | sed -n '1,/^$/p' | grep -q -- "^  ! qdevice-disconnected: the quorum device"; }
for k in 1 2; do
	wait_for 20 human "$k" || fail "node$k does not warn of the disconnected device: $(ctl "$k" status)"
	has_warning "$k" qdevice-disconnected || fail "qdevice-disconnected is not in node$k's status document"
	status_says "$k" "st['quorate'] and not st['qdevice']['connected'] and st['qdevice']['lost']" ||
		fail "node$k's status: $(ctl "$k" status --json)"
	metric_is "$k" 'fomgr_warning{warning="qdevice-disconnected"} 1' || fail "node$k: the warning's metric is not 1"
	metric_is "$k" 'fomgr_qdevice_connected 0' || fail "node$k: fomgr_qdevice_connected is not 0"
	grep '"subject":"qdevice"' "$LAB_STATE/node$k/audit.log" | grep -q '"action":"lost"' ||
		fail "node$k's audit log has no record of the lost device"
	grep -q 'qdevice lost: ' "$LAB_STATE/node$k/fomgr.log" || fail "node$k logged no 'qdevice lost'"
done
log "witness stopped: $(ctl 1 status | grep -m1 '! qdevice-disconnected')"
quorate_with node1 2 && quorate_with node2 2 || fail "the nodes lost quorum with the witness: '$(membership node1)'"
sleep 3
assert_holder $VIP node1
moves_after=$(cat "$LAB_STATE"/node*/fomgr.log | grep -c 'transition group=')
((moves_after == moves_before)) || fail "the VIP moved when the witness stopped: $(grep -h 'transition group=' "$LAB_STATE"/node*/fomgr.log | tail -3)"
log "both nodes quorate (2 of 3 votes), nothing moved"

# 2. A partition with the witness down.
t_block=$(now_ms)
lab block "$LAB_ID" 1 2 >/dev/null
apart() { inquorate node1 && inquorate node2; }
wait_for 30 apart || fail "no partition: node1 '$(membership node1)', node2 '$(membership node2)'"
log "partition: node1 '$(membership node1)', node2 '$(membership node2)'"
wait_for 10 holder_is $VIP "" || fail "partition without the witness: $VIP held by '$(holders $VIP)', expected nobody"
sleep 3
assert_no_holder $VIP
apart || fail "the partition did not hold: node1 '$(membership node1)', node2 '$(membership node2)'"
grep -q 'transition group=vip from=node1 to=none reason=' "$LAB_STATE/node1/fomgr.log" || fail "node1 logged no release"
log "neither side has quorum, neither holds $VIP (the cost of a partition while the witness is down)"

# 3. The witness back, the nodes still apart: one side gets the vote.
lab start-qnetd "$LAB_ID" >/dev/null
one() { h=$(holders $VIP) && [[ -n $h && $h != *" "* ]]; }
wait_for 40 one || fail "witness back: $VIP held by '$(holders $VIP)', expected one node"
log "witness back: $(holders $VIP) alone holds $VIP (node1 '$(membership node1)', node2 '$(membership node2)')"
lab unblock "$LAB_ID" 1 2 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
lab wait-qdevice "$LAB_ID" all --timeout 30 >/dev/null
cleared() { ! has_warning "$1" qdevice-disconnected && qdevice_connected "$1"; }
for k in 1 2; do
	wait_for 20 cleared "$k" || fail "node$k still warns: $(ctl "$k" status)"
	metric_is "$k" 'fomgr_warning{warning="qdevice-disconnected"} 0' || fail "node$k: the warning's metric is not 0"
	grep '"subject":"qdevice"' "$LAB_STATE/node$k/audit.log" | grep -q '"action":"back"' ||
		fail "node$k's audit log has no record of the device's return"
done
wait_for 20 holder_is $VIP node1 || fail "placement not restored: $VIP held by '$(holders $VIP)'"
wait_for 5 eval 'who=$(client_reach $VIP $LAB_ECHO_PORT) && [[ $who == node1 ]]' || fail "the client is not answered by node1"
log "healed: the warning is gone on both nodes, node1 holds $VIP and answers the client"
sleep 1
sampler_stop

report=$(sampler_report 1 "$t_stop" 0) || fail "sampler: $report"
log "sampler from the witness's stop: $report"
(($(kv dual_reads "$report") == 0)) || fail "two holders seen: $report"
report=$(sampler_report 1 "$t_stop" "$t_block") || fail "sampler: $report"
(($(kv max_orphan_ms "$report") == 0)) || fail "the VIP was dropped while only the witness was down: $report"
