#!/bin/bash
# corosync alone, as fomgr will see it: three nodes with crypto form one quorate
# membership; when node3's link is cut, node1 and node2 keep quorum with two members
# and node3 loses it; once restored, all three are one membership again.
# FO_LAB_PROFILE=default runs the same with corosync's default timers.
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

profile=${FO_LAB_PROFILE:-test}
case $profile in
fast | test) bound=10 ;;
default) bound=40 ;; # token 3000 + 650 per node above two, consensus 1.2 x that
*) fail "FO_LAB_PROFILE: default, test or fast" ;;
esac

lab_init 1 3 "$profile"
lab totem 1 1 | sed 's/^/  /'

ring_of() { # NODE
	kv ring "$(membership "$1")"
}

same_ring_everywhere() {
	local r1 r2 r3
	r1=$(ring_of node1) r2=$(ring_of node2) r3=$(ring_of node3)
	[[ -n $r1 && $r1 == "$r2" && $r1 == "$r3" ]]
}

for k in 1 2 3; do
	[[ $(membership node$k) == "quorate=yes nodes=3 members=1,2,3 "* ]] ||
		fail "node$k: $(membership node$k)"
done
same_ring_everywhere || fail "nodes disagree on the ring: $(ring_of node1) $(ring_of node2) $(ring_of node3)"
ring_before=$(ring_of node1)
[[ $(lab exec 1 node1 corosync-cmapctl -g totem.crypto_cipher) == *"= aes256" ]] || fail "crypto is off"

# --- cut node3 ------------------------------------------------------------------
partitioned() {
	[[ $(membership node1) == "quorate=yes nodes=2 members=1,2 "* ]] &&
		[[ $(membership node2) == "quorate=yes nodes=2 members=1,2 "* ]] &&
		[[ $(membership node3) == "quorate=no nodes=1 members=3 "* ]]
}

t_cut=$(now_ms)
lab cut 1 3
log "cut node3"
wait_for "$bound" partitioned ||
	fail "no partition 1,2 | 3 after ${bound}s: node1 $(membership node1); node3 $(membership node3)"
log "partition seen by polling after ${WAIT_MS} ms"
for k in 1 2 3; do
	t=$(corosync_log_ms node$k 'A new membership .* formed' "$t_cut") ||
		fail "node$k logged no new membership after the cut"
	log "node$k: new membership logged $((t - t_cut)) ms after the cut"
done
[[ $(ring_of node1) != "$ring_before" && $(ring_of node1) == "$(ring_of node2)" ]] ||
	fail "node1/node2 rings after the cut: $(ring_of node1) $(ring_of node2) (before: $ring_before)"

# The majority must hold steady: no further membership change, no loss of quorum.
ring_partition=$(ring_of node1)
for i in $(seq 10); do
	partitioned || fail "partition did not hold (check $i): node1 $(membership node1); node3 $(membership node3)"
	sleep 0.1
done
[[ $(ring_of node1) == "$ring_partition" ]] || fail "node1's membership changed again while cut"
if corosync_log_ms node1 'non-primary component' "$t_cut" >/dev/null; then
	fail "node1 left the primary component during the cut"
fi

# --- restore --------------------------------------------------------------------
t_restore=$(now_ms)
lab restore 1 3
log "restored node3"
joined() {
	local k
	for k in 1 2 3; do
		[[ $(membership node$k) == "quorate=yes nodes=3 members=1,2,3 "* ]] || return 1
	done
	same_ring_everywhere
}
wait_for "$bound" joined ||
	fail "node3 did not rejoin within ${bound}s: node1 $(membership node1); node3 $(membership node3)"
log "all three in one membership after ${WAIT_MS} ms (ring $(ring_of node1))"
t=$(corosync_log_ms node3 'Members\[3\]: 1 2 3' "$t_restore") || fail "node3 logged no 3-member membership"
log "node3: Members[3] logged $((t - t_restore)) ms after the restore"
[[ $(ring_of node1) != "$ring_partition" ]] || fail "ring did not change on rejoin"

# No corosync died along the way.
[[ $(lab pids 1 | grep -c ' dead$' || true) == 0 ]] || fail "a corosync died: $(lab pids 1)"
