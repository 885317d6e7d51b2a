#!/bin/bash
# Five nodes (issue 11), votequorum's plain majority (3 of 5), five active-active
# groups: gK on 192.0.2.10K prefers nodeK, then the nodes after it in turn, with
# failback auto, so every node serves one group while all are up.
#   1. A partition of 2 and 3: nodes 4 and 5 hear each other and nobody else on
#      the cluster network, from one instant (lab partition: a switch split, not
#      the bridge partitions that blocking one pair after another makes on the
#      way). The minority has no quorum and holds nothing; the
#      majority holds every group, g4 and g5 included (on node1, next in their
#      preference).
#   2. The partition heals: g4 and g5 go back to node4 and node5 (failback).
#   3. node3 fails (cut off): g3 moves to node4, its next preference, and comes
#      back to node3 when it returns.
# Never two holders of any VIP in any sample of the five kernels.
source "$(dirname "$0")/lib.sh"
N=5

lab_init 82 $N test
vip() { echo "192.0.2.10$1"; }
for ((k = 1; k <= N; k++)); do
	{
		lab fomgr-config "$LAB_ID" "$k" | sed '/^\[group vip\]/,$d'
		for ((g = 1; g <= N; g++)); do
			prefer=
			for ((i = 0; i < N; i++)); do prefer+=" node$(((g - 1 + i) % N + 1))"; done
			printf '[group g%d]\ninterface = eth0\naddress = %s/24\nprefer =%s\nfailback = auto\n\n' \
				"$g" "$(vip "$g")" "$prefer"
		done
	} >"$LAB_STATE/node$k/five.conf"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/five.conf" >/dev/null
done
start_echo_all

# placed WANT: gK is held by the K-th node named in WANT (one node each) and only there.
placed() {
	local g=1 want
	for want in "$@"; do
		[[ $(holders "$(vip $g)") == "$want" ]] || return 1
		g=$((g + 1))
	done
}
held() { local g; for ((g = 1; g <= N; g++)); do echo -n "g$g=$(holders "$(vip $g)") "; done; }
wait_for 30 placed node1 node2 node3 node4 node5 || fail "not one group per node: $(held)"
log "one group per node: $(held)"
# shellcheck disable=SC2046 # one argument per VIP
sampler_start $(for ((g = 1; g <= N; g++)); do vip $g; done)
sleep 1

# 1. Partition: {4, 5} | {1, 2, 3}.
t_cut=$(now_ms)
lab partition "$LAB_ID" 4,5 1,2,3 >/dev/null
split() { quorate_with node1 3 && quorate_with node3 3 && inquorate node4 && inquorate node5; }
wait_for 30 split || fail "no 3 | 2 partition: node1 '$(membership node1)', node4 '$(membership node4)'"
log "partition: node1 '$(membership node1)', node4 '$(membership node4)'"
wait_for 20 placed node1 node2 node3 node1 node1 || fail "the majority does not hold every group: $(held)"
who=$(client_reach "$(vip 4)" "$LAB_ECHO_PORT") || fail "the client gets no answer from $(vip 4)"
[[ $who == node1 ]] || fail "$(vip 4) answered by $who, expected node1"
sleep 3
placed node1 node2 node3 node1 node1 || fail "placement did not hold in the partition: $(held)"
split || fail "the partition did not hold: node4 '$(membership node4)'"
for k in 4 5; do
	ip -n "$(ns_of "node$k")" -o addr show dev eth0 | grep -q ' 192\.0\.2\.10[1-5]/' &&
		fail "node$k (no quorum) holds a VIP: $(ip -n "$(ns_of "node$k")" -br addr show eth0)"
	# The minority releases for its quorum (its links reach 2 of 5), or first by
	# the ring watch's token rule (ring-stall): the partition blocks pair after
	# pair, so its ring stops passing tokens before its last link goes down.
	grep -Eq "transition group=g$k from=node$k to=none reason=(quorum|ring-stall)" "$LAB_STATE/node$k/fomgr.log" ||
		fail "node$k logged no quorum or ring-stall release of g$k"
done
log "minority 4, 5 holds nothing; majority holds every group: $(held)"

# 2. Heal: failback to node4 and node5.
lab heal "$LAB_ID" >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
wait_for 30 placed node1 node2 node3 node4 node5 || fail "no failback after the heal: $(held)"
grep -q 'transition group=g4 from=node1 to=node4 reason=failback' "$LAB_STATE/node4/fomgr.log" ||
	fail "node4 logged no failback of g4"
log "healed: one group per node again"

# 3. node3 fails.
t_fail=$(now_ms)
lab cut "$LAB_ID" 3 >/dev/null
wait_for 20 placed node1 node2 node4 node4 node5 || fail "g3 did not move to node4: $(held)"
log "node3 cut off: g3 on node4 $(($(now_ms) - t_fail)) ms after the cut: $(held)"
lab restore "$LAB_ID" 3 >/dev/null
lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null
wait_for 30 placed node1 node2 node3 node4 node5 || fail "g3 did not come back to node3: $(held)"
grep -q 'transition group=g3 from=node4 to=node3 reason=failback' "$LAB_STATE/node3/fomgr.log" ||
	fail "node3 logged no failback of g3"
log "node3 back: one group per node again"
sleep 1
sampler_stop

for ((g = 1; g <= N; g++)); do
	report=$(sampler_report $g "$t_cut" 0) || fail "sampler: $report"
	log "g$g: $report"
	(($(kv dual_reads "$report") == 0)) || fail "two holders of g$g: $report"
	(($(kv rounds "$report") > 50)) || fail "the sampler barely ran: $report"
done
